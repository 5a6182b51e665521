"""What PostgreSQL cannot store or Python cannot parse is a 400 naming where it is, never a 500."""

import json

import pytest

from leads.models import Lead

pytestmark = pytest.mark.django_db


def post(api, path, raw: str):
    return api().post(path, data=raw, content_type="application/json")


@pytest.mark.parametrize(
    ("body", "where", "problem"),
    [
        ('{"first_name": "Ann\\u0000", "linkedin": "ann-lee"}', "first_name", "NUL"),
        ('{"first_name": "Ann", "linkedin": "ann-lee", "custom_fields": {"role": "\\ud800"}}', "custom_fields.role", "lone surrogate"),
        ('{"first_name": "Ann", "linkedin": "ann-lee", "x\\u0000": 1}', "field name", "NUL"),
    ],
)  # fmt: skip
def test_nul_and_lone_surrogates_are_a_400_naming_the_field(api, world, body, where, problem):
    payload = json.loads(body)
    payload["campaign"] = str(world["a"].campaign.pk)
    before = Lead.objects.count()
    response = post(api, "/api/v1/leads", json.dumps(payload))
    assert response.status_code == 400, response.content
    text = json.dumps(response.json())
    assert where in text and problem in text
    assert Lead.objects.count() == before


def test_json_nested_past_any_sense_is_a_400(api):
    deep = "[" * 100_000 + "]" * 100_000
    response = post(api, "/api/v1/leads", deep)
    assert response.status_code == 400 and "nested deeper" in json.dumps(response.json())
    past_the_limit = '{"first_name": ' + "[" * 80 + "]" * 80 + "}"
    assert post(api, "/api/v1/leads", past_the_limit).status_code == 400


def test_an_idempotent_request_refused_for_a_nul_is_recorded_without_a_500(api, world):
    client = api()
    body = json.dumps({"campaign": str(world["a"].campaign.pk), "linkedin": "ann-lee", "n\u0000": "x"})
    for _ in range(2):
        response = client.post(
            "/api/v1/leads", data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="key-nul-1"
        )
        assert response.status_code == 400


@pytest.mark.parametrize("path", ["/api/v1/", "/api/v1/campaigns/abc", "/api/v1/campaigns/", "/api/v1/nope/x"])
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_unknown_routes_and_malformed_ids_answer_the_uniform_json_404(api, settings, path, method):
    settings.DEBUG = True  # not Django's HTML debug page either
    response = getattr(api(), method)(path)
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


# --- Query strings, forms, CSV rows and signature headers --------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/inbox/?q=%00",
        "/inbox/?account=1%00",
        "/reports/?start=%00",
        "/admin/leads/lead/?status=%00",
        "/admin/leads/lead/?q=a%00b",
        "/api/v1/leads?search=%00",
        "/api/v1/leads?cursor=%00",
        "/api/v1/inbox/conversations?q=%00",
    ],
)
def test_a_nul_in_a_query_parameter_is_a_400_naming_it(client, admin_user, path):
    client.force_login(admin_user)
    response = client.get(path)
    assert response.status_code == 400
    assert "contains a NUL character" in response.content.decode()
    name = path.split("?")[1].split("=")[0]
    assert repr(name) in response.content.decode().replace('\\"', '"').replace("\\u0027", "'")


def test_a_nul_in_a_form_field_is_a_400_and_nothing_is_written(client, admin_user, world):
    from inbox.models import Conversation

    client.force_login(admin_user)
    before = Conversation.objects.count()
    response = client.post("/admin/outreach/client/add/", {"name": "Evil\x00", "slug": "evil", "timezone": "UTC"})
    assert response.status_code == 400 and "'name'" in response.content.decode()
    from outreach.models import Client

    assert not Client.objects.filter(slug="evil").exists() and Conversation.objects.count() == before


def test_a_csv_row_with_a_nul_is_refused_as_a_row_not_a_500(world):
    from leads.importing import Mapping, classify

    mapping = Mapping(fields={"linkedin": "url", "first_name": "first"}, custom=["note"])
    rows = [
        (2, mapping.record({"url": "ann-lee", "first": "Ann\x00", "note": ""})),
        (3, mapping.record({"url": "bob-ray", "first": "Bob", "note": "hi\x00"})),
        (4, mapping.record({"url": "cat-ito", "first": "Cat", "note": "ok"})),
    ]
    results = list(classify(world["a"].campaign, rows))
    reasons = {r.line: r.reason for r in results}
    assert "First name contains a NUL character" in reasons[2]
    assert "Custom field 'note' contains a NUL character" in reasons[3]
    assert reasons[4] == ""


@pytest.mark.parametrize("timestamp", ["9" * 400, "1e308", "-1", "١٢٣"])
def test_an_unreadable_svix_timestamp_is_a_400(client, settings, timestamp):
    settings.RESEND_WEBHOOK_SECRET = "whsec_c2VjcmV0"
    response = client.post(
        "/webhooks/resend/", b"{}", content_type="application/json",
        HTTP_SVIX_ID="msg_1", HTTP_SVIX_TIMESTAMP=timestamp, HTTP_SVIX_SIGNATURE="v1,abc",
    )  # fmt: skip
    assert response.status_code == 400 and response.json()["details"]["svix-timestamp"]


@pytest.mark.parametrize(
    "number", ["1e999", "9" * 5000, "99999999999999999999999", "NaN", "-Infinity", "1" + "0" * 400]
)
def test_overflowing_numbers_are_a_400(api, world, number):
    account = world["a"].account
    before = account.daily_invite_limit
    response = api().patch(
        f"/api/v1/linkedin-accounts/{account.pk}", data='{"daily_invite_limit": ' + number + "}",
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 400 and response.json()["code"] in ("validation_error", "parse_error")
    account.refresh_from_db()
    assert account.daily_invite_limit == before
