"""Webhook intake and processing with payloads shaped exactly as in shared/UNIPILE.md."""

import copy
import datetime as dt
import io
import json

import pytest
from django.core.cache import cache
from django.utils import timezone

from campaigns.models import OutboundAction
from integrations import tasks as webhook_tasks
from integrations import webhooks
from integrations.models import LinkedInAccount, WebhookDelivery
from leads.models import Event, Lead
from tests.factories import AccountFactory, CampaignFactory, LeadFactory, OutboundActionFactory, StepFactory

pytestmark = pytest.mark.django_db
SECRET = "hook-secret-123"
OWN = "ACoAA-own"
PERSON = "ACoAAperson0001"


@pytest.fixture(autouse=True)
def secret(settings):
    settings.UNIPILE_WEBHOOK_SECRET = SECRET


@pytest.fixture
def account(client_org):
    return AccountFactory(client=client_org, unipile_account_id="acc-1", provider_id=OWN)


@pytest.fixture
def lead(account):
    campaign = CampaignFactory(client=account.client, status="active", timezone="Europe/Paris")
    campaign.senders.add(account)
    StepFactory(campaign=campaign, position=1, action="invite", template="")
    StepFactory(campaign=campaign, position=2, action="message", delay_days=1, template="Hi {first_name}")
    return LeadFactory(
        campaign=campaign,
        public_identifier="ann-lee",
        provider_id=PERSON,
        status="invited",
        sender=account,
        invited_at=timezone.now(),
        current_step=1,
    )


def message_payload(*, inbound=True, message_id="msg-1", is_sender="missing", chat_id="chat-1", text="Sounds good!"):
    sender = (
        {
            "attendee_id": "att-1",
            "attendee_name": "Ann Lee",
            "attendee_provider_id": PERSON,
            "attendee_profile_url": "https://www.linkedin.com/in/ann-lee/",
            "attendee_specifics": {"member_urn": "urn:li:member:1"},
        }
        if inbound
        else {
            "attendee_id": "att-0",
            "attendee_name": "Sofia",
            "attendee_provider_id": OWN,
            "attendee_profile_url": "",
            "attendee_specifics": {"member_urn": "urn:li:member:0"},
        }
    )
    payload = {
        "event": "message_received",
        "account_id": "acc-1",
        "account_type": "LINKEDIN",
        "account_info": {"type": "LINKEDIN", "feature": "classic", "user_id": OWN},
        "webhook_name": "outreach-messaging",
        "chat_id": chat_id,
        "message_id": message_id,
        "message": text,
        "timestamp": "2026-11-18T10:15:00.000Z",
        "sender": sender,
        "attendees": [{"attendee_provider_id": PERSON, "attendee_name": "Ann Lee"}],
        "attachments": [],
        "provider_chat_id": "p-chat",
        "provider_message_id": "p-msg",
        "message_type": "MESSAGE",
        "is_group": False,
        "subject": None,
    }
    if is_sender != "missing":
        payload["is_sender"] = is_sender
    return payload


def relation_payload(*, provider_id=PERSON, public_identifier="ann-lee"):
    return {
        "event": "new_relation",
        "account_id": "acc-1",
        "account_type": "LINKEDIN",
        "webhook_name": "outreach-users",
        "user_full_name": "Ann Lee",
        "user_provider_id": provider_id,
        "user_public_identifier": public_identifier,
        "user_profile_url": f"https://www.linkedin.com/in/{public_identifier}/",
        "user_picture_url": "",
    }


def status_payload(status):
    return {"AccountStatus": {"account_id": "acc-1", "account_type": "LINKEDIN", "message": status}}


@pytest.fixture
def post(client, django_capture_on_commit_callbacks):
    def send(source, payload, *, secret=SECRET, raw=None):
        webhook_tasks._last_kick["second"] = 0  # each test delivery gets its own kick, processed eagerly
        headers = {"HTTP_UNIPILE_AUTH": secret} if secret is not None else {}
        body = raw if raw is not None else json.dumps(payload)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(f"/webhooks/unipile/{source}/", data=body, content_type="application/json", **headers)

    return send


# --- intake ---


def test_reply_is_stored_answered_and_processed(post, lead):
    response = post("messaging", message_payload())
    assert response.status_code == 200 and response.json()["received"] is True
    delivery = WebhookDelivery.objects.get()
    assert (delivery.source, delivery.event, delivery.account_id, delivery.status) == (
        "messaging",
        "message_received",
        "acc-1",
        "processed",
    )
    assert "unipile-auth" not in {k.lower() for k in delivery.headers}
    lead.refresh_from_db()
    assert lead.status == "replied" and lead.chat_id == "chat-1"
    assert Event.objects.get(type="reply_received").external_id == "msg-1"


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x"])
def test_wrong_or_missing_secret_is_401_and_counted(post, lead, secret):
    cache.clear()
    response = post("messaging", message_payload(), secret=secret)
    assert response.status_code == 401
    assert response.json() == {
        "code": "not_authenticated",
        "message": "Missing or wrong Unipile-Auth header.",
        "details": {},
    }
    assert not WebhookDelivery.objects.exists()
    assert cache.get(f"webhooks:refused:{timezone.now():%Y%m%d}") == 1
    lead.refresh_from_db()
    assert lead.status == "invited"


def test_no_secret_configured_refuses_everything(post, settings, lead):
    settings.UNIPILE_WEBHOOK_SECRET = ""
    assert post("messaging", message_payload(), secret="").status_code == 401


def test_secret_is_compared_in_constant_time(monkeypatch, post, lead):
    calls = []
    import hmac

    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    post("messaging", message_payload())
    assert calls


def test_duplicate_delivery_answers_200_and_is_not_processed_again(post, lead):
    post("messaging", message_payload())
    second = post("messaging", message_payload())
    assert second.status_code == 200 and second.json()["duplicate"] is True
    statuses = sorted(WebhookDelivery.objects.values_list("status", flat=True))
    assert statuses == ["ignored", "processed"]
    assert Event.objects.filter(type="reply_received").count() == 1


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("{not json", "malformed JSON"),
        ("[1, 2]", "JSON object"),
        (json.dumps({"account_id": "acc-1"}), "no event"),
        (json.dumps({"event": "message_received", "account_id": "acc-1"}), "without message_id"),
        ("[" * 5000 + "]" * 5000, "malformed JSON"),
    ],
)
def test_malformed_bodies_are_400_and_stored_failed(post, lead, raw, reason):
    response = post("messaging", None, raw=raw)
    assert response.status_code == 400 and response.json()["code"] == "validation_error"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "failed" and reason in delivery.error
    lead.refresh_from_db()
    assert lead.status == "invited"


def test_body_over_1mb_is_refused(post, lead):
    response = post("messaging", None, raw=json.dumps({"x": "a" * (1024 * 1024)}))
    assert response.status_code == 413
    assert WebhookDelivery.objects.get().status == "failed"


def test_unknown_source_is_404(post):
    assert post("payments", {}).status_code == 404


def test_get_is_405(client):
    assert client.get("/webhooks/unipile/messaging/").status_code == 405


# --- message_received ---


@pytest.mark.parametrize("is_sender", [True, False, 0, 1, "missing"])
def test_direction_comes_from_the_sender_not_is_sender(post, lead, is_sender):
    post("messaging", message_payload(inbound=True, is_sender=is_sender))
    lead.refresh_from_db()
    assert lead.status == "replied"


@pytest.mark.parametrize("is_sender", [True, False, "missing"])
def test_our_own_message_echo_changes_nothing(post, lead, account, is_sender):
    lead.status = "connected"
    lead.save()
    OutboundActionFactory(lead=lead, account=account, message_id="msg-ours", status="sent")
    post("messaging", message_payload(inbound=False, message_id="msg-ours", is_sender=is_sender))
    lead.refresh_from_db()
    assert lead.status == "connected"
    assert WebhookDelivery.objects.get().error == "our own message"


def test_echo_before_the_sender_recorded_the_id_is_still_ours(post, lead, account):
    lead.status = "connected"
    lead.save()
    OutboundActionFactory(lead=lead, account=account, status="claimed", text="Hi Ann", claimed_at=timezone.now())
    post("messaging", message_payload(inbound=False, message_id="msg-new", text="Hi Ann"))
    lead.refresh_from_db()
    assert lead.status == "connected"


def test_hand_written_message_pauses_the_sequence(post, lead):
    lead.status, lead.chat_id = "messaged", "chat-1"
    lead.save()
    post("messaging", message_payload(inbound=False, message_id="msg-hand", text="Hey, following up personally"))
    lead.refresh_from_db()
    assert lead.status == "paused" and lead.resume_status == "messaged"
    assert Event.objects.filter(type="lead_status_changed", data__to="paused").exists()


def test_reply_cancels_queued_actions_and_stops_the_person_elsewhere(post, lead, account):
    queued = OutboundActionFactory(
        lead=lead, step=lead.campaign.steps.get(position=2), account=account, status="queued"
    )
    other_campaign = CampaignFactory(client=account.client, status="active")
    same_person = LeadFactory(
        campaign=other_campaign, provider_id=PERSON, public_identifier="ann-lee", status="pending"
    )
    other_client_lead = LeadFactory(provider_id=PERSON, public_identifier="ann-lee", status="pending")
    post("messaging", message_payload())
    queued.refresh_from_db()
    same_person.refresh_from_db()
    other_client_lead.refresh_from_db()
    assert queued.status == "cancelled"
    assert (
        same_person.status == "paused"
        and "one conversation per person" in Event.objects.filter(lead=same_person).last().data["reason"]
    )
    assert other_client_lead.status == "pending"  # another client's campaign is not ours to stop


def test_reply_matched_by_public_identifier_then_chat_id(post, account, lead):
    Lead.objects.filter(pk=lead.pk).update(provider_id="")
    post("messaging", message_payload())
    lead.refresh_from_db()
    assert lead.status == "replied" and lead.provider_id == PERSON
    by_chat = LeadFactory(
        campaign=lead.campaign, public_identifier="bob", provider_id="", chat_id="chat-9", status="messaged"
    )
    payload = message_payload(message_id="msg-9", chat_id="chat-9")
    payload["sender"]["attendee_provider_id"] = "ACoAAunknownsender"
    payload["sender"]["attendee_profile_url"] = ""
    post("messaging", payload)
    by_chat.refresh_from_db()
    assert by_chat.status == "replied"


def test_unknown_sender_is_kept_not_dropped(post, account):
    payload = message_payload()
    payload["sender"]["attendee_provider_id"] = "ACoAAstranger"
    payload["sender"]["attendee_profile_url"] = ""
    post("messaging", payload)
    delivery = WebhookDelivery.objects.get()
    assert (
        delivery.status == "processed"
        and "kept for the inbox" in delivery.error
        and json.loads(delivery.body)["message"] == "Sounds good!"
    )


def test_message_for_an_unknown_account_is_ignored(post):
    post("messaging", message_payload())
    assert WebhookDelivery.objects.get().error == "unknown account: ignored"


# --- new_relation ---


def test_acceptance_connects_and_makes_the_next_step_due(post, lead):
    post("users", relation_payload())
    lead.refresh_from_db()
    assert lead.status == "connected" and lead.connected_at is not None and lead.next_action_at is not None
    assert Event.objects.get(type="invite_accepted").data["source"] == "webhook"


def test_acceptance_without_provider_id_matches_the_slug_and_stores_the_id(post, lead):
    Lead.objects.filter(pk=lead.pk).update(provider_id="")
    post("users", relation_payload(provider_id="", public_identifier="ann-lee"))
    lead.refresh_from_db()
    assert lead.status == "connected"
    post("users", relation_payload(provider_id="ACoAAnew", public_identifier="ann-lee"))
    lead.refresh_from_db()
    assert lead.provider_id in ("", "ACoAAnew")


def test_reply_before_acceptance_and_late_acceptance(post, lead):
    post("messaging", message_payload())
    post("users", relation_payload())
    lead.refresh_from_db()
    assert lead.status == "replied" and lead.connected_at is not None


def test_duplicate_and_reordered_relations(post, lead):
    post("users", relation_payload())
    post("users", relation_payload())
    assert Event.objects.filter(type="invite_accepted").count() == 1


# --- account status ---


def test_account_status_pauses_and_ok_resumes(post, account):
    post("account_status", status_payload("CREDENTIALS"))
    account.refresh_from_db()
    assert account.status == "CREDENTIALS" and account.paused and account.pause_source == "status"
    post("account_status", status_payload("OK"))
    account.refresh_from_db()
    assert account.status == "OK" and not account.paused


def test_ok_does_not_resume_an_operator_pause(post, account):
    account.paused, account.pause_source, account.paused_reason = True, "operator", "holiday"
    account.save()
    post("account_status", status_payload("OK"))
    account.refresh_from_db()
    assert account.paused and account.paused_reason == "holiday"


def timed_status(status, when):
    payload = status_payload(status)
    payload["AccountStatus"]["timestamp"] = when
    return payload


def test_the_same_delivery_twice_is_a_duplicate(post, account):
    post("account_status", timed_status("ERROR", "2026-11-18T10:00:00.000Z"))
    second = post("account_status", timed_status("ERROR", "2026-11-18T10:00:00.000Z"))
    assert second.json()["duplicate"] is True


def test_a_status_that_comes_back_is_applied_every_time(post, account):
    """CREDENTIALS, OK, CREDENTIALS within minutes: dedupe must never swallow a state change."""
    for status in ("CREDENTIALS", "OK", "CREDENTIALS"):
        assert post("account_status", status_payload(status)).json()["duplicate"] is False
    account.refresh_from_db()
    assert account.status == "CREDENTIALS" and account.paused and account.pause_source == "status"
    assert WebhookDelivery.objects.filter(status="processed").count() == 3
    # The same with the times the deliveries carry.
    for n, status in enumerate(("OK", "CREDENTIALS", "OK"), start=1):
        post("account_status", timed_status(status, (timezone.now() + dt.timedelta(seconds=n)).isoformat()))
    account.refresh_from_db()
    assert account.status == "OK" and not account.paused


def test_status_events_apply_in_the_order_of_their_timestamps(post, account):
    post("account_status", timed_status("OK", "2026-11-18T10:05:00.000Z"))
    late = post("account_status", timed_status("CREDENTIALS", "2026-11-18T10:01:00.000Z"))  # delayed in transit
    account.refresh_from_db()
    assert account.status == "OK" and not account.paused
    delivery = WebhookDelivery.objects.get(pk=late.json()["delivery"])
    assert delivery.status == "processed" and "older than the status in force" in delivery.error
    post("account_status", timed_status("CREDENTIALS", "2026-11-18T10:06:00.000Z"))
    account.refresh_from_db()
    assert account.status == "CREDENTIALS" and account.paused


def post_chunked(client, body: bytes):
    """As a proxy in front of us sends it: Transfer-Encoding chunked, no Content-Length (the server decodes)."""
    return client.post(
        "/webhooks/unipile/messaging/",
        data=b"",
        content_type="application/json",
        HTTP_UNIPILE_AUTH=SECRET,
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="",
        **{"wsgi.input": io.BytesIO(body)},
    )


def test_a_chunked_body_is_read(client, lead, django_capture_on_commit_callbacks):
    webhook_tasks._last_kick["second"] = 0
    with django_capture_on_commit_callbacks(execute=True):
        response = post_chunked(client, json.dumps(message_payload()).encode())
    assert response.status_code == 200, response.content
    lead.refresh_from_db()
    assert lead.status == "replied"


def test_a_chunked_body_over_the_limit_is_a_413(client):
    response = post_chunked(client, b" " * (webhooks.MAX_BODY_BYTES + 10))
    assert response.status_code == 413
    assert WebhookDelivery.objects.get().status == "failed"


def test_unknown_status_fails_the_delivery(post, account):
    post("account_status", status_payload("EXPLODED"))
    assert WebhookDelivery.objects.get().status == "failed"
    account.refresh_from_db()
    assert account.status == "OK"


# --- admin actions on deliveries ---


def test_reprocess_and_ignore(admin_client, post, lead):
    from django.urls import reverse

    post("messaging", message_payload(), secret=SECRET)
    delivery = WebhookDelivery.objects.get()
    url = reverse("admin:integrations_webhookdelivery_changelist")
    response = admin_client.post(url, {"action": "reprocess", "_selected_action": [delivery.pk]}, follow=True)
    assert any("Reprocessed" in str(m) for m in response.context["messages"])
    assert Event.objects.filter(type="reply_received").count() == 1  # processing twice changes nothing
    admin_client.post(url, {"action": "mark_ignored", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.status == "ignored"
    page = admin_client.get(reverse("admin:integrations_webhookdelivery_change", args=[delivery.pk]))
    assert "Sounds good!" in page.content.decode()


def test_processing_a_delivery_twice_is_harmless(lead):
    body = json.dumps(message_payload())
    stored = webhooks.store(source="messaging", body=body.encode(), headers={})
    assert stored.verdict == "new"
    assert webhooks.process(stored.delivery_id) == "processed"
    assert webhooks.process(stored.delivery_id) == "already processed"
    assert copy.deepcopy(Event.objects.filter(type="reply_received").count()) == 1
    assert OutboundAction.objects.count() == 0
    assert LinkedInAccount.objects.count() == 1


def test_a_reply_timestamped_before_the_invitation_never_moves_the_milestones_back(post, lead):
    invited = dt.datetime(2026, 11, 18, 12, 0, tzinfo=dt.UTC)
    Lead.objects.filter(pk=lead.pk).update(invited_at=invited)
    payload = message_payload()  # the provider says 10:15, before the invitation at 12:00
    post("messaging", payload)
    lead.refresh_from_db()
    assert lead.status == "replied" and lead.replied_at == invited
    reply = Event.objects.get(type="reply_received", lead=lead)
    assert reply.occurred_at == dt.datetime(2026, 11, 18, 10, 15, tzinfo=dt.UTC)  # the provider's time is kept
    change = Event.objects.get(type="lead_status_changed", lead=lead, data__to="replied")
    assert change.data["provider_time"] == "2026-11-18T10:15:00+00:00"
    assert change.data["recorded_as"] == invited.isoformat()


def test_a_late_acceptance_is_not_dated_before_the_invitation(post, lead):
    from campaigns.inbound import accept_relation

    invited = timezone.now()
    Lead.objects.filter(pk=lead.pk).update(invited_at=invited, status="replied", replied_at=invited)
    accept_relation(
        account=lead.sender, provider_id=PERSON, public_identifier="ann-lee", source="sync",
        when=invited - dt.timedelta(days=2),
    )  # fmt: skip
    lead.refresh_from_db()
    assert lead.connected_at == invited


@pytest.mark.parametrize("text", ["Yes\u0000 let's talk", "Yes \ud83d let's talk"])
def test_a_reply_with_a_nul_or_a_lone_surrogate_still_stops_the_sequence(post, lead, text):
    """Stored and processed with the characters removed (PostgreSQL cannot hold them): never a missed reply."""
    response = post("messaging", None, raw=json.dumps(message_payload(text=text)))
    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "processed", delivery.error
    assert delivery.headers["X-Outreach-Removed-Characters"] == "1"
    lead.refresh_from_db()
    assert lead.status == "replied"
    from inbox.models import Message

    assert Message.objects.get().text == "Yes let's talk" or Message.objects.get().text == "Yes  let's talk"


def test_a_nul_in_the_ids_of_a_delivery_is_not_a_500(post, lead):
    payload = message_payload(message_id="msg\u00001")
    payload["event"] = "message_\u0000received"
    response = post("messaging", None, raw=json.dumps(payload))
    assert response.status_code in (200, 400)
    assert WebhookDelivery.objects.exists()
