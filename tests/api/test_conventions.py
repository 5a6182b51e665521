"""The conventions every endpoint shares: idempotent POSTs, cursor pagination, throttling, tokens, schema."""

import io
import threading

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from campaigns.models import Campaign
from leads.models import Lead
from outreach.api.tokens import api_token_issue
from outreach.models import IdempotencyKey
from tests import factories

from .conftest import client_for


def _campaign_payload(world, name="Idem"):
    return {"client": str(world["a"].client.pk), "name": name}


# --- Idempotency-Key --------------------------------------------------------------------------


def test_same_key_and_body_replays_without_acting_again(world, api):
    first = api("agent").post("/api/v1/campaigns", _campaign_payload(world), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = api("agent").post("/api/v1/campaigns", _campaign_payload(world), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Campaign.objects.filter(name="Idem").count() == 1


def test_same_key_with_another_body_is_422(world, api):
    api("agent").post("/api/v1/campaigns", _campaign_payload(world), format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    response = api("agent").post(
        "/api/v1/campaigns", _campaign_payload(world, "Other"), format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "conflict"
    assert not Campaign.objects.filter(name="Other").exists()


def test_keys_belong_to_their_user_and_actions_replay_too(world, api):
    campaign = world["a"].campaign
    campaign.senders.add(world["a"].account)
    path = f"/api/v1/campaigns/{campaign.pk}/activate"
    assert api("agent").post(path, HTTP_IDEMPOTENCY_KEY="act").status_code == 200
    replay = api("agent").post(path, HTTP_IDEMPOTENCY_KEY="act")
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    # Another user with the same key acts for themselves: here the campaign is already active.
    other = api("admin").post(path, HTTP_IDEMPOTENCY_KEY="act")
    assert other.status_code == 409 and other.json()["code"] == "invalid_state_transition"


def test_server_errors_are_not_stored(world, api, monkeypatch):
    from campaigns import api as campaigns_api

    def boom(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(campaigns_api, "campaign_duplicate", boom)
    path = f"/api/v1/campaigns/{world['a'].campaign.pk}/duplicate"
    response = api("agent").post(path, HTTP_IDEMPOTENCY_KEY="dup")
    assert response.status_code == 500
    assert response.json() == {
        "code": "server_error",
        "message": "Something went wrong on our side; it has been logged.",
        "details": {},
    }
    assert not IdempotencyKey.objects.filter(key="dup").exists()
    monkeypatch.undo()
    assert api("agent").post(path, HTTP_IDEMPOTENCY_KEY="dup").status_code == 201


def test_a_key_in_progress_is_a_409(world, api, monkeypatch):
    from outreach.api import idempotency

    monkeypatch.setattr(idempotency, "request_hash", lambda request: "h" * 64)
    IdempotencyKey.objects.create(user=world["users"]["agent"], key="busy", request_hash="h" * 64)
    response = api("agent").post(
        "/api/v1/campaigns", _campaign_payload(world), format="json", HTTP_IDEMPOTENCY_KEY="busy"
    )
    assert response.status_code == 409
    assert "still being processed" in response.json()["message"]
    assert not Campaign.objects.filter(name="Idem").exists()


def test_bad_keys_are_refused(world, api):
    response = api("agent").post(
        "/api/v1/campaigns", _campaign_payload(world), format="json", HTTP_IDEMPOTENCY_KEY="x" * 300
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["details"]


def test_expired_keys_are_purged(world, api, time_machine):
    import datetime as dt

    from django.utils import timezone

    from outreach.tasks import purge_idempotency_keys

    api("agent").post("/api/v1/campaigns", _campaign_payload(world), format="json", HTTP_IDEMPOTENCY_KEY="old")
    time_machine.move_to(timezone.now() + dt.timedelta(hours=25))
    assert purge_idempotency_keys() == 1
    again = api("agent").post("/api/v1/campaigns", _campaign_payload(world), format="json", HTTP_IDEMPOTENCY_KEY="old")
    assert again.status_code == 201 and not again.has_header("Idempotent-Replayed")


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL for concurrent requests")
@pytest.mark.django_db(transaction=True)
def test_concurrent_twins_act_once():
    from django.contrib.auth import get_user_model

    from outreach.models import Membership

    client = factories.ClientFactory()
    user = get_user_model().objects.create_user("twin", password="pw-for-tests-1")
    Membership.objects.create(user=user, client=client, role="agent")
    key = api_token_issue(user=user)[1]
    results = []
    barrier = threading.Barrier(6)

    def post():
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        barrier.wait()
        results.append(
            api.post(
                "/api/v1/campaigns",
                {"client": str(client.pk), "name": "Twins"},
                format="json",
                HTTP_IDEMPOTENCY_KEY="t",
            ).status_code
        )
        connection.close()

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Campaign.objects.filter(name="Twins").count() == 1
    assert set(results) <= {201, 409} and 201 in results


# --- Pagination ------------------------------------------------------------------------------


def test_cursor_pages_stay_stable_while_rows_are_inserted(world, api):
    campaign = world["a"].campaign
    factories.LeadFactory.create_batch(25, campaign=campaign)
    expected = list(Lead.objects.filter(campaign=campaign).order_by("-id").values_list("id", flat=True))
    seen, url = [], f"/api/v1/leads?campaign={campaign.pk}&limit=7"
    while url:
        body = api("viewer").get(url).json()
        seen += [int(row["id"]) for row in body["results"]]
        factories.LeadFactory(campaign=campaign)  # a new lead arrives between pages
        url = body["next"]
    assert seen == expected


def test_ordering_with_ties_pages_without_gaps(world, api):
    campaign = world["a"].campaign
    factories.LeadFactory.create_batch(12, campaign=campaign, last_name="Same")
    expected = set(Lead.objects.filter(campaign=campaign).values_list("id", flat=True))
    seen, url = [], f"/api/v1/leads?campaign={campaign.pk}&limit=5&ordering=last_name"
    while url:
        body = api("viewer").get(url).json()
        seen += [int(row["id"]) for row in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(expected) and len(seen) == len(expected)


def test_previous_link_goes_back(world, api):
    campaign = world["a"].campaign
    factories.LeadFactory.create_batch(10, campaign=campaign)
    first = api("viewer").get(f"/api/v1/leads?campaign={campaign.pk}&limit=4").json()
    second = api("viewer").get(first["next"]).json()
    back = api("viewer").get(second["previous"]).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in first["results"]]


@pytest.mark.parametrize("cursor", ["bm9wZQ", "!!!", "cD05OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ==", "bz0tNQ=="])
def test_made_up_cursors_are_404(world, api, cursor):
    response = api("viewer").get(f"/api/v1/leads?cursor={cursor}")
    assert response.status_code == 404
    assert response.json()["code"] == "invalid_cursor"


# --- Throttling ------------------------------------------------------------------------------


def test_throttled_per_token_with_retry_after(world, api, settings):
    settings.API_THROTTLE_RATE = "3/min"
    cache.clear()
    responses = [api("viewer").get("/api/v1/clients") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    body = responses[-1].json()
    assert body["code"] == "rate_limited"
    assert int(responses[-1]["Retry-After"]) > 0
    assert body["details"]["retry_after_seconds"] == int(responses[-1]["Retry-After"])
    # Another token has its own budget.
    assert api("agent").get("/api/v1/clients").status_code == 200
    cache.clear()


def test_throttle_counts_live_where_every_web_process_reads_them(world, api, settings):
    from outreach.models import ApiToken
    from outreach.ratelimit import peek

    settings.API_THROTTLE_RATE = "2/min"
    cache.clear()
    token = ApiToken.objects.get(user=world["users"]["viewer"])
    assert peek(f"api:token:{token.pk}", 1, 60).allowed
    api("viewer").get("/api/v1/clients")
    # Another web process reads the same count: Redis, or the database when there is no Redis.
    assert not peek(f"api:token:{token.pk}", 1, 60).allowed
    cache.clear()


# --- Tokens ----------------------------------------------------------------------------------


def test_api_token_command_issues_and_rotates(world):
    user = world["users"]["agent"]
    old = world["tokens"]["agent"]
    out = io.StringIO()
    call_command("api_token", "agent-a", stdout=out, stderr=io.StringIO())
    new = out.getvalue().strip()
    assert new != old and new.startswith("otk_")
    assert user.api_tokens.active().get().prefix == new[:12]
    stale = client_for(world, "agent")
    assert stale.get("/api/v1/clients").status_code == 401
    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert fresh.get("/api/v1/clients").status_code == 200


def test_api_token_command_names_unknown_users(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user named 'ghost'"):
        call_command("api_token", "ghost")


def test_admin_action_issues_a_token(world, client):
    root = world["users"]["super"]
    client.force_login(root)
    target = world["users"]["viewer"]
    response = client.post(
        "/admin/auth/user/",
        {"action": "issue_api_token", "_selected_action": [target.pk]},
        follow=True,
    )
    page = response.content.decode()
    key = page.split('user-select:all">')[1].split("<")[0]
    assert key.startswith("otk_") and key != world["tokens"]["viewer"]
    assert target.api_tokens.active().get().prefix == key[:12]
    assert "otk_" not in response.cookies.get("messages", "").__str__()
    check = APIClient()
    check.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert check.get("/api/v1/clients").status_code == 200


# --- Schema and docs -------------------------------------------------------------------------


def test_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/v1/leads" in (tmp_path / "schema.yaml").read_text()


def test_docs_are_served_with_local_assets(world, client):
    client.force_login(world["users"]["viewer"])
    for path in ("/api/v1/docs/", "/api/v1/redoc/"):
        page = client.get(path).content.decode()
        assert "cdn.jsdelivr" not in page and "unpkg.com" not in page
        assert "/static/drf_spectacular_sidecar/" in page
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200


def test_schema_and_docs_need_a_login(db):
    for path in ("/api/v1/schema/", "/api/v1/docs/", "/api/v1/redoc/"):
        response = APIClient().get(path)
        assert response.status_code == 401, path
