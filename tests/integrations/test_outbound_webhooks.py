"""Outbound webhooks: written with the change, signed (Standard Webhooks), retried, in order per lead, safe to
send; endpoints through the API and the admin alike."""

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from standardwebhooks import Webhook

from integrations import outbound
from integrations.models import EventDelivery, OutboxEvent, WebhookEndpoint
from integrations.outbound import UnsafeTarget, check_target, dispatch, endpoint_create, endpoint_rotate_secret
from leads.services import lead_transition
from outreach.models import Membership
from tests.factories import AccountFactory, CampaignFactory, ClientFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


class Receiver:
    """A local HTTP receiver: records what arrives, answers the queued status codes (200 when none)."""

    def __init__(self):
        self.received: list[tuple[dict, bytes]] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                if status in (301, 302):
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.end_headers()
                self.wfile.write(b"ok " + b"x" * 5000)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def payloads(self) -> list[dict]:
        return [json.loads(body) for _headers, body in self.received]


@pytest.fixture
def receiver(settings):
    settings.OUTBOUND_WEBHOOKS_ALLOW_INSECURE = True  # a local receiver over http, as in development
    server = Receiver()
    yield server
    server.server.shutdown()


@pytest.fixture
def endpoint(client_org, receiver):
    return endpoint_create(client=client_org, url=receiver.url, events=[])


def test_an_event_is_written_with_its_change_and_not_without_it(campaign, endpoint):
    lead = LeadFactory(campaign=campaign)
    with pytest.raises(RuntimeError), transaction.atomic():
        lead_transition(lead=lead, to="paused", reason="check")
        raise RuntimeError("the change is rolled back")
    assert OutboxEvent.objects.count() == 0
    lead_transition(lead=lead, to="paused", reason="check")
    event = OutboxEvent.objects.get()
    assert event.type == "lead.status_changed" and event.lead_id == lead.pk
    assert event.payload["data"]["lead"]["id"] == str(lead.pk) and event.payload["data"]["to"] == "paused"
    assert EventDelivery.objects.get().endpoint == endpoint


def test_nothing_is_written_without_a_subscriber(campaign, client_org, receiver):
    endpoint_create(client=client_org, url=receiver.url, events=["lead.replied"])
    endpoint_create(client=ClientFactory(), url=receiver.url, events=[])  # another client's
    lead_transition(lead=LeadFactory(campaign=campaign), to="paused", reason="check")
    assert OutboxEvent.objects.count() == 0 and EventDelivery.objects.count() == 0


def test_deliveries_are_signed_as_standard_webhooks_say(campaign, endpoint, receiver):
    lead = LeadFactory(campaign=campaign)
    lead_transition(lead=lead, to="paused", reason="check")
    assert dispatch().delivered == 1
    headers, body = receiver.received[0]
    payload = Webhook(endpoint.secret).verify(body, headers)
    assert headers["webhook-id"] == payload["id"] and payload["id"].startswith("evt_")
    assert payload["type"] == "lead.status_changed" and payload["version"] == outbound.PAYLOAD_VERSION
    assert payload["client_id"] == str(endpoint.client_id) and isinstance(payload["data"]["lead"]["campaign_id"], str)
    delivery = EventDelivery.objects.get()
    assert delivery.status == "delivered" and delivery.last_status_code == 200 and delivery.attempts == 1
    assert delivery.response_excerpt.startswith("ok ") and len(delivery.response_excerpt) <= 2048
    with pytest.raises(Exception, match="signature"):
        Webhook(outbound.new_secret()).verify(body, headers)


def test_a_rotated_secret_signs_with_both_for_24_hours(campaign, endpoint, receiver):
    old = endpoint.secret
    endpoint = endpoint_rotate_secret(endpoint=endpoint)
    lead_transition(lead=LeadFactory(campaign=campaign), to="paused", reason="check")
    dispatch()
    headers, body = receiver.received[0]
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(body, headers)
    Webhook(endpoint.secret).verify(body, headers)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(previous_secret_expires_at=timezone.now())
    lead_transition(lead=LeadFactory(campaign=campaign), to="paused", reason="check")
    dispatch()
    assert len(receiver.received[1][0]["webhook-signature"].split(" ")) == 1


def test_failures_are_retried_with_backoff_then_given_up(campaign, endpoint, receiver, settings):
    receiver.answers = [500, 503]
    lead_transition(lead=LeadFactory(campaign=campaign), to="paused", reason="check")
    now = timezone.now()
    assert dispatch(now=now).failed == 1
    delivery = EventDelivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1 and delivery.last_status_code == 500
    assert now + dt.timedelta(seconds=3) < delivery.next_attempt_at < now + dt.timedelta(seconds=7)
    assert dispatch(now=now).ids == []  # not before its time
    assert dispatch(now=now + dt.timedelta(seconds=7)).failed == 1
    assert dispatch(now=now + dt.timedelta(minutes=2)).delivered == 1
    assert EventDelivery.objects.get().status == "delivered" and len(receiver.received) == 3
    assert WebhookEndpoint.objects.get().consecutive_failures == 0

    receiver.answers = [500]
    lead_transition(lead=LeadFactory(campaign=campaign), to="paused", reason="check")
    last = EventDelivery.objects.order_by("-id").first()
    EventDelivery.objects.filter(pk=last.pk).update(attempts=len(settings.OUTBOUND_WEBHOOK_RETRY_SECONDS))
    dispatch(now=timezone.now())
    assert EventDelivery.objects.get(pk=last.pk).status == "failed"
    assert 2.5 * 86400 < sum(settings.OUTBOUND_WEBHOOK_RETRY_SECONDS) < 3.5 * 86400  # about three days of retries


def test_410_gone_disables_the_endpoint(campaign, endpoint, receiver):
    receiver.answers = [410]
    for _ in range(2):
        lead_transition(lead=LeadFactory(campaign=campaign), to="paused", reason="check")
    dispatch()
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "410" in endpoint.disabled_reason
    assert set(EventDelivery.objects.values_list("status", flat=True)) == {"cancelled"}
    assert len(receiver.received) == 1


def test_consecutive_failures_disable_the_endpoint(campaign, endpoint, receiver, settings):
    settings.OUTBOUND_WEBHOOK_DISABLE_AFTER_FAILURES = 3
    receiver.answers = [500] * 3
    for _ in range(3):
        lead_transition(lead=LeadFactory(campaign=campaign), to="paused", reason="check")
    dispatch()
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "3 failed attempts in a row" in endpoint.disabled_reason


def test_a_leads_events_go_out_in_order(campaign, endpoint, receiver):
    lead = LeadFactory(campaign=campaign)
    other = LeadFactory(campaign=campaign)
    receiver.answers = [500]
    lead_transition(lead=lead, to="paused", reason="first")
    lead_transition(lead=lead, to="pending", reason="second")
    lead_transition(lead=other, to="paused", reason="another lead")
    now = timezone.now()
    result = dispatch(now=now)
    assert (result.failed, result.delivered) == (1, 1)  # the other lead is not held back
    assert [p["data"]["reason"] for p in receiver.payloads()] == ["first", "another lead"]
    later = now + dt.timedelta(minutes=1)
    assert dispatch(now=later).delivered == 1 and dispatch(now=later).delivered == 1
    reasons = [p["data"]["reason"] for p in receiver.payloads() if p["data"]["lead"]["id"] == str(lead.pk)]
    assert reasons == ["first", "first", "second"]


def test_a_delivery_left_by_a_dead_worker_is_sent_again(campaign, endpoint, receiver):
    lead_transition(lead=LeadFactory(campaign=campaign), to="paused", reason="check")
    now = timezone.now()
    EventDelivery.objects.update(status="sending", lease_until=now + dt.timedelta(seconds=30))
    assert dispatch(now=now).ids == []  # another worker holds it
    assert dispatch(now=now + dt.timedelta(seconds=61)).delivered == 1


def test_redirects_are_not_followed(campaign, endpoint, receiver):
    receiver.answers = [302]
    lead_transition(lead=LeadFactory(campaign=campaign), to="paused", reason="check")
    dispatch()
    delivery = EventDelivery.objects.get()
    assert delivery.status == "pending" and delivery.last_error == "HTTP 302" and len(receiver.received) == 1


@pytest.mark.parametrize(
    ("url", "addresses", "words"),
    [
        ("http://hooks.example.com/x", ["93.184.216.34"], "must use https"),
        ("https://localhost/x", ["127.0.0.1"], "loopback"),
        ("https://internal.example.com/x", ["10.1.2.3"], "private"),
        ("https://metadata.example.com/x", ["169.254.169.254"], "metadata"),
        ("https://v6.example.com/x", ["::1"], "loopback"),
        ("https://mapped.example.com/x", ["::ffff:192.168.1.1"], "private"),
        ("https://user:pw@hooks.example.com/x", ["93.184.216.34"], "user name"),
        ("ftp://hooks.example.com/x", ["93.184.216.34"], "https://"),
    ],
)
def test_unsafe_targets_are_refused(monkeypatch, url, addresses, words):
    monkeypatch.setattr(outbound, "resolve", lambda host, port: addresses)
    with pytest.raises(UnsafeTarget, match=words):
        check_target(url)


def test_a_public_target_is_accepted_and_checked_again_at_delivery(monkeypatch, campaign, client_org):
    monkeypatch.setattr(outbound, "resolve", lambda host, port: ["93.184.216.34"])
    endpoint = endpoint_create(client=client_org, url="https://hooks.example.com/x", events=[])
    monkeypatch.setattr(outbound, "resolve", lambda host, port: ["127.0.0.1"])  # DNS now points inside
    lead_transition(lead=LeadFactory(campaign=campaign), to="paused", reason="check")
    dispatch()
    delivery = EventDelivery.objects.get(endpoint=endpoint)
    assert (
        delivery.status == "pending"
        and delivery.last_error.startswith("refused:")
        and "loopback" in delivery.last_error
    )


# --- the events ---------------------------------------------------------------------------------------------


def test_the_catalogue_of_events_is_written_where_things_happen(
    client_org, endpoint, receiver, django_capture_on_commit_callbacks
):
    from campaigns.services import campaign_activate, campaign_pause
    from inbox.ingest import IncomingMessage, ingest
    from inbox.models import Conversation
    from inbox.services import conversation_assign
    from integrations.services import account_record_status

    account = AccountFactory(client=client_org, status="OK", provider_id="ACoAAOwn")
    campaign = CampaignFactory(client=client_org, status="draft")
    campaign.senders.add(account)
    from tests.factories import StepFactory

    StepFactory(campaign=campaign, position=1, action="invite", template="Hi")
    campaign_activate(campaign=campaign)
    campaign_pause(campaign=campaign)
    lead = LeadFactory(campaign=campaign, provider_id="ACoAAPerson1", status="messaged", sender=account, chat_id="c-1")
    with transaction.atomic():
        ingest(
            IncomingMessage(
                account=account, chat_id="c-1", message_id="m-1", text="Yes, tell me more", inbound=True,
                person_provider_id="ACoAAPerson1", person_name="Ann Lee", sent_at=timezone.now(),
            ),
            source="webhook",
        )  # fmt: skip
    conversation = Conversation.objects.get(chat_id="c-1")
    user = UserFactory(username="agent")
    Membership.objects.create(user=user, client=client_org, role="agent")
    conversation_assign(conversation=conversation, user=user)
    account_record_status(account=account, status="CREDENTIALS", source="webhook")
    account_record_status(account=account, status="OK", source="webhook", when=timezone.now() + dt.timedelta(seconds=1))
    types = list(OutboxEvent.objects.order_by("id").values_list("type", flat=True))
    for expected in (
        "campaign.activated", "campaign.paused", "lead.replied", "lead.status_changed", "message.received",
        "conversation.assigned", "account.disconnected", "account.reconnected",
    ):  # fmt: skip
        assert expected in types, (expected, types)
    replied = OutboxEvent.objects.get(type="lead.replied").payload["data"]
    assert replied["reply"]["text"] == "Yes, tell me more" and replied["lead"]["id"] == str(lead.pk)
    assert replied["conversation_url"].endswith(f"/inbox/{conversation.pk}/")


def test_lead_imported_for_each_new_lead(client_org, endpoint, campaign):
    from leads.services import lead_create

    lead = lead_create(campaign=campaign, record={"linkedin": "https://www.linkedin.com/in/new-person/"})
    event = OutboxEvent.objects.get(type="lead.imported")
    assert event.lead_id == lead.pk and event.payload["data"]["lead"]["public_identifier"] == "new-person"


# --- endpoints through the API and the admin ---------------------------------------------------------------


def _api(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_the_api_shows_the_secret_once_and_refuses_unsafe_urls(client_org, receiver, monkeypatch):
    admin = UserFactory(username="boss")
    agent = UserFactory(username="agent")
    Membership.objects.create(user=admin, client=client_org, role="admin")
    Membership.objects.create(user=agent, client=client_org, role="agent")
    api = _api(admin)
    created = api.post(
        "/api/v1/webhook-endpoints",
        {"client": str(client_org.pk), "url": receiver.url, "events": ["lead.replied"], "description": "CRM"},
        format="json",
    )
    assert created.status_code == 201 and created.json()["secret"].startswith("whsec_")
    endpoint_id = created.json()["id"]
    shown = api.get(f"/api/v1/webhook-endpoints/{endpoint_id}").json()
    assert "secret" not in shown and shown["events"] == ["lead.replied"]
    rotated = api.post(f"/api/v1/webhook-endpoints/{endpoint_id}/rotate-secret").json()
    assert rotated["secret"] != created.json()["secret"]
    ping = api.post(f"/api/v1/webhook-endpoints/{endpoint_id}/test").json()
    assert ping["delivered"] is True and ping["status_code"] == 200
    assert receiver.payloads()[-1]["type"] == "ping"
    bad = api.post("/api/v1/webhook-endpoints", {"client": str(client_org.pk), "url": "ftp://x"}, format="json")
    assert bad.status_code == 400 and "url" in bad.json()["details"]
    unknown = api.post(
        "/api/v1/webhook-endpoints",
        {"client": str(client_org.pk), "url": receiver.url, "events": ["nope"]},
        format="json",
    )
    assert unknown.status_code == 400 and "events" in unknown.json()["details"]
    assert _api(agent).get("/api/v1/webhook-endpoints").status_code == 403
    assert _api(agent).get(f"/api/v1/webhook-endpoints/{endpoint_id}").status_code == 404
    assert WebhookEndpoint.objects.count() == 1


def test_replay_of_a_time_range(campaign, endpoint, receiver):
    lead_transition(lead=LeadFactory(campaign=campaign), to="paused", reason="check")
    dispatch()
    api = _api(UserFactory(username="root", is_superuser=True, is_staff=True))
    since = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    until = (timezone.now() + dt.timedelta(hours=1)).isoformat()
    answer = api.post(
        f"/api/v1/webhook-endpoints/{endpoint.pk}/replay", {"since": since, "until": until}, format="json"
    )
    assert answer.json() == {"replayed": 1}
    dispatch()
    assert (
        len(receiver.received) == 2 and receiver.received[0][0]["webhook-id"] == receiver.received[1][0]["webhook-id"]
    )


@pytest.mark.parametrize(("url", "words"), [("ftp://crm.example/x", "https://"), ("http://crm.example/x", "https")])
def test_an_unsafe_url_is_refused_alike_by_the_admin_and_the_api(admin_client, client_org, url, words, monkeypatch):
    monkeypatch.setattr(outbound, "resolve", lambda host, port: ["93.184.216.34"])
    page = admin_client.post(
        reverse("admin:integrations_webhookendpoint_add"), {"client": client_org.pk, "url": url, "enabled": "on"}
    )
    assert page.status_code == 200 and words in page.content.decode()
    answer = _api(UserFactory(username="root", is_superuser=True, is_staff=True)).post(
        "/api/v1/webhook-endpoints", {"client": str(client_org.pk), "url": url}, format="json"
    )
    assert answer.status_code == 400 and words in str(answer.json()["details"]["url"])
    assert WebhookEndpoint.objects.count() == 0


def test_the_admin_adds_pings_and_replays(admin_client, client_org, receiver, campaign):
    page = admin_client.post(
        reverse("admin:integrations_webhookendpoint_add"),
        {"client": client_org.pk, "url": receiver.url, "enabled": "on", "description": "CRM"},
    )
    endpoint = WebhookEndpoint.objects.get()
    assert page.status_code == 200 and endpoint.secret in page.content.decode() and "no-store" in page["Cache-Control"]
    changelist = reverse("admin:integrations_webhookendpoint_changelist")
    admin_client.post(changelist, {"action": "send_ping", "_selected_action": [endpoint.pk]})
    assert receiver.payloads()[-1]["type"] == "ping"
    log = admin_client.get(
        reverse("admin:integrations_eventdelivery_changelist") + f"?endpoint__id__exact={endpoint.pk}"
    )
    assert log.status_code == 200 and "ping" in log.content.decode()
    delivery = EventDelivery.objects.get()
    admin_client.post(
        reverse("admin:integrations_eventdelivery_changelist"), {"action": "replay", "_selected_action": [delivery.pk]}
    )
    assert len(receiver.received) == 2 and EventDelivery.objects.get().attempts == 2  # sent again at once


def test_every_event_type_is_documented_and_payloads_match_their_schema(campaign, endpoint, settings):
    import jsonschema
    from drf_spectacular.generators import SchemaGenerator

    from integrations.webhook_schema import DATA_FOR_TYPE

    assert set(DATA_FOR_TYPE) == set(outbound.EVENT_TYPES)
    assert len(settings.SPECTACULAR_SETTINGS["WEBHOOKS"]) == len(DATA_FOR_TYPE)
    document = SchemaGenerator().get_schema(request=None, public=True)
    assert set(document["x-webhooks"]) == set(outbound.EVENT_TYPES) and "webhooks" not in document
    lead = LeadFactory(campaign=campaign)
    lead_transition(lead=lead, to="invited", reason="step 1 done")
    outbound.endpoint_ping(endpoint=endpoint)
    checked = 0
    for event in OutboxEvent.objects.all():
        reference = document["x-webhooks"][event.type]["post"]["requestBody"]["content"]["application/json"]["schema"]
        schema = {**reference, "components": document["components"]}
        jsonschema.validate(json.loads(json.dumps(event.payload)), schema)
        checked += 1
    assert checked == 3  # lead.status_changed, lead.invited, ping


def test_a_campaign_whose_leads_all_finished_is_completed_once(client_org, endpoint, campaign):
    from django.core.management import call_command

    from campaigns.models import Campaign

    Campaign.objects.filter(pk=campaign.pk).update(status="active")
    LeadFactory(campaign=campaign, status="replied")
    waiting = LeadFactory(campaign=campaign, status="paused")
    call_command("complete_campaigns", "--once")
    assert Campaign.objects.get(pk=campaign.pk).status == "active"  # a paused lead may still go on
    waiting.status = "completed"
    waiting.save()
    call_command("complete_campaigns", "--once")
    call_command("complete_campaigns", "--once")
    assert Campaign.objects.get(pk=campaign.pk).status == "completed"
    assert OutboxEvent.objects.filter(type="campaign.completed").count() == 1


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks for concurrent workers")
@pytest.mark.django_db(transaction=True)
def test_four_dispatchers_send_each_delivery_once_and_in_order(settings):
    settings.OUTBOUND_WEBHOOKS_ALLOW_INSECURE = True
    server = Receiver()
    try:
        client = ClientFactory()
        endpoint = endpoint_create(client=client, url=server.url, events=[])
        for n in range(120):
            outbound.emit(client_id=client.pk, type="ping", data={"n": n}, lead_id=n % 10 + 1)
        barrier = threading.Barrier(4)
        errors = []

        def worker():
            try:
                barrier.wait()
                while dispatch(limit=7).ids:
                    pass
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        ids = [headers["webhook-id"] for headers, _body in server.received]
        assert len(ids) == 120 and len(set(ids)) == 120  # each once
        for lead in range(1, 11):
            numbers = [p["data"]["n"] for p in server.payloads() if (p["data"]["n"] % 10 + 1) == lead]
            assert numbers == sorted(numbers), lead  # a lead's events in the order written
        assert not EventDelivery.objects.filter(endpoint=endpoint).exclude(status="delivered").exists()
    finally:
        server.server.shutdown()
