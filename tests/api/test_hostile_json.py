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
