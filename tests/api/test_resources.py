"""Each resource end to end: reads, writes, actions, their refusals and the uniform error body."""

import pytest

from campaigns.models import Campaign
from leads.models import DoNotContact, Lead, LeadStatus


def _ok(response, status=200):
    assert response.status_code == status, response.content
    return response.json()


def _error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "details"}
    assert body["code"] == code, body
    return body


def test_lists_are_scoped_and_ids_are_strings(world, api):
    for path, own in [
        ("/api/v1/clients", world["a"].client),
        ("/api/v1/linkedin-accounts", world["a"].account),
        ("/api/v1/campaigns", world["a"].campaign),
        ("/api/v1/rate-usage", world["a"].usage),
        ("/api/v1/events", world["a"].event),
    ]:
        body = _ok(api("viewer").get(path))
        ids = [row["id"] for row in body["results"]]
        assert ids == [str(own.pk)], path
        assert set(body) == {"next", "previous", "results"}
    leads = _ok(api("viewer").get("/api/v1/leads"))["results"]
    assert {row["campaign"] for row in leads} == {str(world["a"].campaign.pk)}
    dnc = _ok(api("viewer").get("/api/v1/do-not-contact"))["results"]
    assert {row["value"] for row in dnc} == {"no@acme.example"}  # the agency-wide list is for staff only
    staff = _ok(api("super").get("/api/v1/do-not-contact"))["results"]
    assert "global.example" in {row["value"] for row in staff}


def test_account_shows_todays_usage_and_limits(world, api):
    body = _ok(api("viewer").get(f"/api/v1/linkedin-accounts/{world['a'].account.pk}"))
    assert body["today"]["invites"] == {"used": 0, "limit": 25}
    assert body["today"]["invites_this_week"] == {"used": 3, "limit": 100}


def test_campaign_create_with_steps_and_actions(world, api):
    a = world["a"]
    payload = {
        "client": str(a.client.pk),
        "name": "Founders Q1",
        "timezone": "Europe/Berlin",
        "working_days": [0, 1, 2, 3, 4],
        "senders": [str(a.account.pk)],
        "steps": [
            {"position": 1, "action": "invite", "template": "Hi {first_name}"},
            {"position": 2, "action": "message", "delay_days": 3, "template": "Thanks!"},
        ],
    }
    body = _ok(api("agent").post("/api/v1/campaigns", payload, format="json"), 201)
    assert body["status"] == "draft" and [s["position"] for s in body["steps"]] == [1, 2]
    assert body["senders"] == [str(a.account.pk)]
    campaign_id = body["id"]
    body = _ok(api("agent").post(f"/api/v1/campaigns/{campaign_id}/activate"))
    assert body["status"] == "active"
    _error(api("agent").post(f"/api/v1/campaigns/{campaign_id}/resume"), 409, "invalid_state_transition")
    assert _ok(api("agent").post(f"/api/v1/campaigns/{campaign_id}/pause"))["status"] == "paused"
    copy = _ok(api("agent").post(f"/api/v1/campaigns/{campaign_id}/duplicate"), 201)
    assert copy["status"] == "draft" and len(copy["steps"]) == 2
    body = _ok(
        api("agent").patch(
            f"/api/v1/campaigns/{campaign_id}",
            {"steps": [{"position": 1, "action": "invite", "template": "Hello {first_name}"}]},
            format="json",
        )
    )
    assert [s["template"] for s in body["steps"]] == ["Hello {first_name}"]
    _error(api("agent").delete(f"/api/v1/campaigns/{campaign_id}"), 409, "invalid_state_transition")
    assert api("agent").delete(f"/api/v1/campaigns/{copy['id']}").status_code == 204


def test_activation_refusal_lists_problems(world, api):
    body = _ok(
        api("agent").post("/api/v1/campaigns", {"client": str(world["a"].client.pk), "name": "Empty"}, format="json"),
        201,
    )
    error = _error(api("agent").post(f"/api/v1/campaigns/{body['id']}/activate"), 409, "invalid_state_transition")
    assert any("No sender accounts" in p for p in error["details"]["problems"])


def test_campaign_validation_names_fields(world, api):
    a, b = world["a"], world["b"]
    error = _error(
        api("agent").post(
            "/api/v1/campaigns",
            {"client": str(b.client.pk), "name": "x", "surprise": 1, "work_start": "18:00", "work_end": "09:00"},
            format="json",
        ),
        400,
        "validation_error",
    )
    assert set(error["details"]) == {"surprise"}
    error = _error(
        api("agent").post("/api/v1/campaigns", {"client": str(b.client.pk), "name": "x"}, format="json"),
        400,
        "validation_error",
    )
    assert "client" in error["details"]
    error = _error(
        api("agent").post(
            "/api/v1/campaigns",
            {"client": str(a.client.pk), "name": "x", "work_start": "18:00", "work_end": "09:00"},
            format="json",
        ),
        400,
        "validation_error",
    )
    assert "work_end" in error["details"]
    error = _error(
        api("agent").post(
            "/api/v1/campaigns",
            {"client": str(a.client.pk), "name": "x", "steps": [{"position": 1, "action": "message"}]},
            format="json",
        ),
        400,
        "validation_error",
    )
    assert "steps" in error["details"]
    assert Campaign.objects.filter(name="x").count() == 0


def test_preview_renders_steps_for_a_lead(world, api):
    a = world["a"]
    rows = _ok(api("viewer").get(f"/api/v1/campaigns/{a.campaign.pk}/preview?lead={a.lead.pk}"))
    assert rows[0]["lead"] == str(a.lead.pk)
    assert rows[0]["steps"][0]["text"] == "Hi Ada!"
    _error(
        api("viewer").get(f"/api/v1/campaigns/{a.campaign.pk}/preview?lead={world['b'].lead.pk}"),
        400,
        "validation_error",
    )


def test_lead_create_update_and_actions(world, api):
    a = world["a"]
    body = _ok(
        api("agent").post(
            "/api/v1/leads",
            {
                "campaign": str(a.campaign.pk),
                "linkedin": "https://www.linkedin.com/in/Grace-Hopper/",
                "first_name": "Grace",
            },
            format="json",
        ),
        201,
    )
    assert body["public_identifier"] == "grace-hopper" and body["status"] == "pending"
    _error(
        api("agent").post("/api/v1/leads", {"campaign": str(a.campaign.pk), "linkedin": "grace-hopper"}, format="json"),
        409,
        "conflict",
    )
    _error(
        api("agent").post("/api/v1/leads", {"campaign": str(a.campaign.pk), "linkedin": "not a url !"}, format="json"),
        400,
        "validation_error",
    )
    lead_id = body["id"]
    assert _ok(api("agent").patch(f"/api/v1/leads/{lead_id}", {"company": "Navy"}, format="json"))["company"] == "Navy"
    _error(
        api("agent").patch(f"/api/v1/leads/{lead_id}", {"status": "replied"}, format="json"), 400, "validation_error"
    )
    assert (
        _ok(api("agent").post(f"/api/v1/leads/{lead_id}/pause", {"reason": "wait"}, format="json"))["status"]
        == "paused"
    )
    assert _ok(api("agent").post(f"/api/v1/leads/{lead_id}/resume"))["status"] == "pending"
    _error(api("agent").post(f"/api/v1/leads/{lead_id}/requeue"), 409, "invalid_state_transition")
    assert _ok(api("agent").post(f"/api/v1/leads/{lead_id}/mark-replied"))["status"] == "replied"
    _error(api("agent").post(f"/api/v1/leads/{lead_id}/pause"), 409, "invalid_state_transition")


def test_lead_move_to_other_clients_campaign_is_refused(world, api):
    a, b = world["a"], world["b"]
    error = _error(
        api("agent").post(f"/api/v1/leads/{a.lead.pk}/move", {"campaign": str(b.campaign.pk)}, format="json"),
        400,
        "validation_error",
    )
    assert "campaign" in error["details"]


def test_lead_filters_and_bad_filter_values(world, api):
    a = world["a"]
    rows = _ok(api("viewer").get(f"/api/v1/leads?status=error&campaign={a.campaign.pk}"))["results"]
    assert [r["first_name"] for r in rows] == ["Grace"]
    rows = _ok(api("viewer").get("/api/v1/leads?search=ada"))["results"]
    assert [r["first_name"] for r in rows] == ["Ada"]
    _error(api("viewer").get("/api/v1/leads?status=sleeping"), 400, "validation_error")
    _error(api("viewer").get("/api/v1/leads?created_after=yesterday"), 400, "validation_error")
    _error(api("viewer").get("/api/v1/leads?campaign=abc"), 400, "validation_error")
    _error(api("viewer").get("/api/v1/leads?ordering=password"), 400, "validation_error")
    _error(api("viewer").get("/api/v1/leads?limit=0"), 400, "validation_error")
    _error(api("viewer").get("/api/v1/leads?cursor=bm9wZQ"), 404, "invalid_cursor")


def test_moments_with_any_offset_are_read_in_utc_and_impossible_ones_refused(world, api):
    # Found by the stateful schemathesis run: PostgreSQL refuses offsets beyond 15:59, Python allows 23:59.
    _ok(api("viewer").get("/api/v1/events?occurred_after=0055-02-12T01:27:54-23:04"))
    rows = _ok(api("viewer").get("/api/v1/leads?created_after=2000-01-01T00:00:00-23:59"))["results"]
    assert rows
    error = _error(
        api("viewer").get("/api/v1/events?occurred_before=0001-01-01T00:10:00+01:00"), 400, "validation_error"
    )
    assert "occurred_before" in error["details"]


def test_a_cursor_position_with_a_made_up_offset_is_refused(world, api):
    import base64

    position = "0055-02-12 01:27:54-23:04"
    cursor = base64.urlsafe_b64encode(f"o=0&p={position}".encode()).decode()
    _error(api("viewer").get(f"/api/v1/events?ordering=occurred_at&cursor={cursor}"), 404, "invalid_cursor")


def test_do_not_contact_create_and_bulk(world, api):
    a = world["a"]
    body = _ok(
        api("agent").post(
            "/api/v1/do-not-contact",
            {"client": str(a.client.pk), "value": f"https://www.linkedin.com/in/{a.lead.public_identifier}/"},
            format="json",
        ),
        201,
    )
    assert body["kind"] == "public_identifier"
    a.lead.refresh_from_db()
    assert a.lead.status == LeadStatus.DO_NOT_CONTACT
    _error(
        api("agent").post("/api/v1/do-not-contact", {"client": None, "value": "x@y.example"}, format="json"),
        400,
        "validation_error",
    )
    error = _error(
        api("agent").post(
            "/api/v1/do-not-contact/bulk",
            {"client": str(a.client.pk), "values": ["a@b.example", "not an entry at all!"]},
            format="json",
        ),
        400,
        "validation_error",
    )
    assert error["details"]["values"] == {"1": [error["details"]["values"]["1"][0]]}
    assert not DoNotContact.objects.filter(value="a@b.example").exists()
    body = _ok(
        api("agent").post(
            "/api/v1/do-not-contact/bulk",
            {"client": str(a.client.pk), "values": ["a@b.example", "@c.example", "no@acme.example"]},
            format="json",
        ),
        201,
    )
    assert body == {"added": 2, "already_listed": 1, "leads_stopped": 0}


def test_rate_usage_reset_needs_admin_and_reason(world, api):
    usage = world["a"].usage
    _error(
        api("agent").post(f"/api/v1/rate-usage/{usage.pk}/reset", {"reason": "x"}, format="json"),
        403,
        "permission_denied",
    )
    _error(api("admin").post(f"/api/v1/rate-usage/{usage.pk}/reset", {}, format="json"), 400, "validation_error")
    body = _ok(api("admin").post(f"/api/v1/rate-usage/{usage.pk}/reset", {"reason": "manual send"}, format="json"))
    assert body["invites"] == 0


def test_account_pause_and_resume(world, api):
    account = world["a"].account
    _error(
        api("admin").post(f"/api/v1/linkedin-accounts/{account.pk}/pause", {}, format="json"), 400, "validation_error"
    )
    body = _ok(api("admin").post(f"/api/v1/linkedin-accounts/{account.pk}/pause", {"reason": "warning"}, format="json"))
    assert body["paused"] is True and body["paused_reason"] == "warning"
    assert _ok(api("admin").post(f"/api/v1/linkedin-accounts/{account.pk}/resume"))["paused"] is False
    _error(api("admin").post(f"/api/v1/linkedin-accounts/{account.pk}/resume"), 409, "invalid_state_transition")
    _error(
        api("admin").patch(f"/api/v1/linkedin-accounts/{account.pk}", {"daily_invite_limit": 5000}, format="json"),
        400,
        "validation_error",
    )


def test_memberships_managed_by_client_admins(world, api):
    a = world["a"]
    body = _ok(
        api("admin").post(
            "/api/v1/memberships", {"client": str(a.client.pk), "user": "nobody", "role": "viewer"}, format="json"
        ),
        201,
    )
    _error(
        api("admin").post(
            "/api/v1/memberships", {"client": str(a.client.pk), "user": "nobody", "role": "agent"}, format="json"
        ),
        400,
        "validation_error",
    )
    assert (
        _ok(api("admin").patch(f"/api/v1/memberships/{body['id']}", {"role": "agent"}, format="json"))["role"]
        == "agent"
    )
    _error(api("agent").get("/api/v1/memberships"), 403, "permission_denied")


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/leads/abc", "/api/v1/leads/99999999999999999999999"])
def test_unknown_paths_answer_json_404(world, api, path):
    _error(api("admin").get(path), 404, "not_found")


def test_method_not_allowed_and_bad_json(world, api):
    body = _error(api("admin").put("/api/v1/events/1", {}, format="json"), 405, "method_not_allowed")
    assert "GET" in body["details"]["allowed"]
    response = api("admin").generic("POST", "/api/v1/campaigns", b'{"name": ', content_type="application/json")
    _error(response, 400, "parse_error")
    response = api("admin").generic(
        "POST", "/api/v1/campaigns", b"name=x", content_type="application/x-www-form-urlencoded"
    )
    _error(response, 415, "unsupported_media_type")


def test_oversized_body_is_413(world, api, settings):
    settings.API_MAX_BODY_BYTES = 2048
    _error(api("agent").post("/api/v1/campaigns", {"name": "x" * 5000}, format="json"), 413, "payload_too_large")


def test_unauthenticated_is_401_with_challenge(world):
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/leads")
    _error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Token")
    anonymous = APIClient()
    anonymous.credentials(HTTP_AUTHORIZATION="Token not-a-key")
    _error(anonymous.get("/api/v1/leads"), 401, "authentication_failed")


def test_lead_delete(world, api):
    lead = world["a"].lead
    _error(api("viewer").delete(f"/api/v1/leads/{lead.pk}"), 403, "permission_denied")
    assert api("agent").delete(f"/api/v1/leads/{lead.pk}").status_code == 204
    assert not Lead.objects.filter(pk=lead.pk).exists()


def test_not_acceptable_is_406_json(world, api):
    response = api("viewer").get("/api/v1/clients", HTTP_ACCEPT="application/xml")
    _error(response, 406, "not_acceptable")


def test_django_level_errors_under_api_are_json(rf):
    from outreach.views import not_found, server_error

    response = server_error(rf.get("/api/v1/leads"))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert b'"code": "server_error"' in response.content
    page = not_found(rf.get("/admin/nope"), Exception("x"))
    assert page["Content-Type"].startswith("text/html")


def test_inbox_conversations_messages_reply_and_counters(world, api):
    a = world["a"]
    rows = _ok(api("viewer").get("/api/v1/inbox/conversations"))["results"]
    assert [r["id"] for r in rows] == [str(a.conversation.pk)]
    assert rows[0]["unread_count"] == 1 and rows[0]["campaign"] == str(a.campaign.pk)
    assert _ok(api("viewer").get("/api/v1/inbox/counters")) == {
        "open": 1,
        "mine": 0,
        "unassigned": 1,
        "snoozed": 0,
        "closed": 0,
    }
    assert _ok(api("viewer").get("/api/v1/inbox/conversations?q=Hello"))["results"]
    assert not _ok(api("viewer").get("/api/v1/inbox/conversations?q=Bravo"))["results"]
    path = f"/api/v1/inbox/conversations/{a.conversation.pk}"
    body = _ok(
        api("agent").post(f"{path}/reply", {"text": "Thanks Ada"}, format="json", HTTP_IDEMPOTENCY_KEY="r1"), 201
    )
    assert body["delivery"] == "queued" and body["direction"] == "out"
    again = api("agent").post(f"{path}/reply", {"text": "Thanks Ada"}, format="json", HTTP_IDEMPOTENCY_KEY="r1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    messages = _ok(api("viewer").get(f"{path}/messages"))["results"]
    assert [m["direction"] for m in messages] == ["in", "out"]
    assert _ok(api("agent").post(f"{path}/assign", {"assignee": "me"}, format="json"))["assignee"] == "agent-a"
    # A username that does not exist and one of another client get the same refusal: nothing confirms a name.
    ghost = api("agent").post(f"{path}/assign", {"assignee": "ghost"}, format="json")
    elsewhere = api("agent").post(f"{path}/assign", {"assignee": "admin-b"}, format="json")
    assert ghost.status_code == elsewhere.status_code == 409 and ghost.json() == elsewhere.json()
    assert "admin-b" not in elsewhere.content.decode()
    _error(
        api("agent").post(f"{path}/snooze", {"until": "2001-01-01T00:00:00Z"}, format="json"),
        409,
        "invalid_state_transition",
    )
    assert _ok(api("agent").post(f"{path}/close"))["status"] == "closed"
    _error(api("agent").post(f"{path}/close"), 409, "invalid_state_transition")
    assert _ok(api("agent").post(f"{path}/reopen"))["status"] == "open"
    _error(api("viewer").post(f"{path}/reply", {"text": "x"}, format="json"), 403, "permission_denied")
    _error(api("viewer").get("/api/v1/inbox/conversations?status=maybe"), 400, "validation_error")
    _error(api("viewer").get("/api/v1/inbox/counters?client=x"), 400, "validation_error")


def test_report_endpoints(world, api):
    a = world["a"]
    body = _ok(api("viewer").get(f"/api/v1/reports/campaigns/{a.campaign.pk}/summary"))
    assert body["summary"]["invitations_sent"] == 1 and body["summary"]["invited"] == 1
    step = a.campaign.steps.get(position=1)
    assert body["steps"] == [
        {"campaign": a.campaign.pk, "step": 1, "step_id": step.pk, "label": f"1. {step.display_label}", "variant": "",
         "sent": 1, "leads": 1, "replies": 0, "replied": 0, "reply_rate": 0.0}
    ]  # fmt: skip
    series = _ok(
        api("viewer").get(f"/api/v1/reports/campaigns/{a.campaign.pk}/timeseries?from=2026-01-01&to=2026-01-31")
    )
    assert len(series["days"]) == 31
    usage = _ok(api("viewer").get(f"/api/v1/reports/accounts/{a.account.pk}/usage"))
    assert usage["days"][0]["invites"] == [3, 25]
    client = _ok(api("viewer").get(f"/api/v1/reports/clients/{a.client.pk}/summary"))
    assert client["campaigns"][0]["campaign"] == str(a.campaign.pk)
    _error(
        api("viewer").get(f"/api/v1/reports/campaigns/{a.campaign.pk}/summary?from=2026-02-30"), 400, "validation_error"
    )
    _error(
        api("viewer").get(f"/api/v1/reports/campaigns/{a.campaign.pk}/summary?from=2026-03-02&to=2026-03-01"),
        400,
        "validation_error",
    )
    _error(
        api("viewer").get(f"/api/v1/reports/campaigns/{a.campaign.pk}/summary?from=2020-01-01&to=2026-01-01"),
        400,
        "validation_error",
    )
    _error(api("viewer").get(f"/api/v1/reports/campaigns/{world['b'].campaign.pk}/summary"), 404, "not_found")
