"""Weekly reports and reply digests through a local fake of Resend's HTTP API (never the real service)."""

import base64
import datetime as dt
import hashlib
import hmac
import io
import json
import time

import pytest
import responses
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from inbox.ingest import ingest
from integrations.mailer import MailError
from leads.models import Event
from reports import emails
from reports.models import ReportDelivery, ReportOptOut
from reports.tasks import send_reply_digests, send_weekly_reports
from tests import factories
from tests.inbox.conftest import incoming

API = "http://resend.test"
SECRET = "whsec_" + base64.b64encode(b"test-secret-for-svix").decode()


class FakeResend:
    """Resend's POST /emails, answering JSON like the real API; remembers idempotency keys as Resend does."""

    def __init__(self, rsps):
        self.sent: list[dict] = []
        self.keys: dict[str, str] = {}
        self.fail_with: list[tuple[int, dict]] = []
        rsps.add_callback(responses.POST, f"{API}/emails", callback=self._send, content_type="application/json")

    def _send(self, request):
        if self.fail_with:
            status, body = self.fail_with.pop(0)
            return status, {"content-type": "application/json"}, json.dumps(body)
        key = request.headers.get("Idempotency-Key", "")
        if key in self.keys:
            return 200, {"content-type": "application/json"}, json.dumps({"id": self.keys[key]})
        body = json.loads(request.body)
        email_id = f"em_{len(self.sent) + 1}"
        self.keys[key] = email_id
        self.sent.append({**body, "id": email_id, "idempotency_key": key})
        return 200, {"content-type": "application/json"}, json.dumps({"id": email_id})


@pytest.fixture
def resend_fake(settings):
    settings.RESEND_API_KEY = "re_test_key"
    settings.RESEND_API_URL = API
    settings.RESEND_WEBHOOK_SECRET = SECRET
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield FakeResend(rsps)


@pytest.fixture
def client_with_week(db):
    client = factories.ClientFactory(
        name="Acme Robotics",
        slug="acme",
        timezone="Europe/Paris",
        report_recipients="ceo@acme.example, cmo@acme.example",
    )
    account = factories.AccountFactory(client=client, name="Sofia Martin")
    campaign = factories.CampaignFactory(client=client, name="Founders Q4")
    # Week 46 of 2026: Mon 9 Nov to Sun 15 Nov; week 45 before it.
    for n in range(10):
        lead = factories.LeadFactory(campaign=campaign)
        day = dt.datetime(2026, 11, 9 + n % 5, 10, tzinfo=dt.UTC)
        Event.objects.create(
            lead=lead, account=account, type="invite_sent", occurred_at=day, data={"step": 1, "variant": "A"}
        )
        if n < 4:
            Event.objects.create(
                lead=lead, account=account, type="invite_accepted", occurred_at=day + dt.timedelta(hours=5)
            )
        if n < 2:
            Event.objects.create(
                lead=lead, account=account, type="reply_received", occurred_at=day + dt.timedelta(hours=9)
            )
    for _ in range(6):
        lead = factories.LeadFactory(campaign=campaign)
        Event.objects.create(
            lead=lead, account=account, type="invite_sent", occurred_at=dt.datetime(2026, 11, 3, 10, tzinfo=dt.UTC)
        )
    return client


MONDAY_9_PARIS = dt.datetime(2026, 11, 16, 8, 0, tzinfo=dt.UTC)  # 09:00 in Paris


@pytest.mark.parametrize(
    ("zone", "moment", "week"),
    [
        ("Europe/Paris", dt.datetime(2026, 11, 16, 6, 59, tzinfo=dt.UTC), "2026-W45"),  # Mon 07:59 Paris: not yet
        ("Europe/Paris", dt.datetime(2026, 11, 16, 7, 0, tzinfo=dt.UTC), "2026-W46"),  # Mon 08:00 Paris
        ("Pacific/Auckland", dt.datetime(2026, 11, 15, 19, 0, tzinfo=dt.UTC), "2026-W46"),  # Mon 08:00 in Auckland
        ("Pacific/Auckland", dt.datetime(2026, 11, 15, 18, 59, tzinfo=dt.UTC), "2026-W45"),
        ("America/Los_Angeles", dt.datetime(2026, 11, 16, 15, 59, tzinfo=dt.UTC), "2026-W45"),  # 07:59 in LA
        ("America/Los_Angeles", dt.datetime(2026, 11, 16, 16, 0, tzinfo=dt.UTC), "2026-W46"),
        ("Europe/Paris", dt.datetime(2026, 11, 22, 22, 0, tzinfo=dt.UTC), "2026-W46"),  # Sunday night
    ],
)
def test_the_due_week_follows_the_clients_monday_8am(db, zone, moment, week):
    client = factories.ClientFactory(timezone=zone)
    assert emails.due_week(client, moment) == week


def test_week_period_is_monday_to_sunday_in_the_clients_days(db):
    period = emails.week_period("2026-W46", "Europe/Paris")
    assert (period.first, period.last) == (dt.date(2026, 11, 9), dt.date(2026, 11, 15))
    assert period.start == dt.datetime(2026, 11, 8, 23, 0, tzinfo=dt.UTC)


def test_report_renders_with_real_numbers(client_with_week):
    content = emails.weekly_content(client_with_week, "2026-W46")
    html, text = emails.render_weekly(content, "ceo@acme.example")
    assert "Founders Q4" in html and "Founders Q4" in text
    assert content.totals["invited"] == 10 and content.totals["invited_change"] == "+4"
    assert content.totals["replied"] == 2 and content.campaigns[0]["acceptance_rate"] == 0.4
    assert "Step 1" in text and "Sofia Martin" in text and "working" in text
    assert "/reports/unsubscribe/" in html and "/reports/unsubscribe/" in text
    assert "<table" in html and "style=" in html and "<style" not in html  # inline CSS, table layout
    assert "week 46" in content.subject


def test_the_weekly_email_names_steps_by_their_label(client_with_week):
    campaign = client_with_week.campaigns.get()
    factories.StepFactory(campaign=campaign, position=1, action="invite", template="", label="Warm invitation")
    html, text = emails.render_weekly(emails.weekly_content(client_with_week, "2026-W46"), "ceo@acme.example")
    assert "1. Warm invitation" in text and "1. Warm invitation" in html and "Step 1" not in text


def test_weekly_report_is_sent_once_per_recipient_even_when_the_task_runs_twice(client_with_week, resend_fake):
    first = emails.deliver_weekly(client_with_week, "2026-W46", now=MONDAY_9_PARIS)
    second = emails.deliver_weekly(client_with_week, "2026-W46", now=MONDAY_9_PARIS)
    assert first.status == "sent" and second is None
    assert sorted(m["to"][0] for m in resend_fake.sent) == ["ceo@acme.example", "cmo@acme.example"]
    keys = {m["idempotency_key"] for m in resend_fake.sent}
    assert keys == {"weekly/acme/2026-W46/ceo@acme.example", "weekly/acme/2026-W46/cmo@acme.example"}
    assert resend_fake.sent[0]["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert ReportDelivery.objects.get().sent_to == {"ceo@acme.example": "em_1", "cmo@acme.example": "em_2"}


def test_a_failure_midway_is_retried_for_the_rest_only(client_with_week, resend_fake):
    original = resend_fake._send
    calls = {"n": 0}

    def flaky(request):
        calls["n"] += 1
        if calls["n"] == 2:
            return (
                500,
                {"content-type": "application/json"},
                json.dumps({"statusCode": 500, "name": "application_error", "message": "Something went wrong"}),
            )
        return original(request)

    with pytest.raises(MailError) as caught:
        _deliver_with_callback(client_with_week, flaky)
    assert caught.value.retryable
    delivery = ReportDelivery.objects.get()
    assert delivery.status == "retrying" and list(delivery.sent_to) == ["ceo@acme.example"]
    assert "500" in delivery.error
    retried = _deliver_with_callback(client_with_week, original)
    assert retried.status == "sent"
    assert [m["to"][0] for m in resend_fake.sent] == ["ceo@acme.example", "cmo@acme.example"]


def _deliver_with_callback(client, callback):
    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.POST, f"{API}/emails", callback=callback, content_type="application/json")
        return emails.deliver_weekly(client, "2026-W46", now=MONDAY_9_PARIS)


def test_a_permanent_refusal_is_failed_and_visible(client_with_week, resend_fake):
    resend_fake.fail_with = [(422, {"statusCode": 422, "name": "validation_error", "message": "Invalid `from` field."})]
    delivery = emails.deliver_weekly(client_with_week, "2026-W46", now=MONDAY_9_PARIS)
    assert delivery.status == "failed" and "Invalid `from` field" in delivery.error
    assert emails.deliver_weekly(client_with_week, "2026-W46", now=MONDAY_9_PARIS) is None  # not resent by itself


def test_without_an_api_key_the_report_is_stored_not_sent(client_with_week, settings):
    settings.RESEND_API_KEY = ""
    delivery = emails.deliver_weekly(client_with_week, "2026-W46", now=MONDAY_9_PARIS)
    assert delivery.status == "stored" and "Founders Q4" in delivery.html and delivery.sent_to == {}


def test_unsubscribe_link_opts_out_from_the_next_report(client, client_with_week, resend_fake):
    url = emails.unsubscribe_url(client_with_week, "cmo@acme.example").split("testserver")[-1]
    path = url[url.index("/reports/") :]
    page = client.get(path)
    assert page.status_code == 200 and b"Stop the weekly reports?" in page.content
    assert not ReportOptOut.objects.exists()  # a GET (a mail scanner) does not unsubscribe
    done = client.post(path)
    assert b"You are unsubscribed" in done.content
    emails.deliver_weekly(client_with_week, "2026-W46", now=MONDAY_9_PARIS)
    assert [m["to"][0] for m in resend_fake.sent] == ["ceo@acme.example"]
    assert client.post("/reports/unsubscribe/forged-token").status_code == 400


def _signed(body: bytes, *, msg_id="msg_1", timestamp=None, secret=SECRET):
    timestamp = str(int(timestamp if timestamp is not None else time.time()))
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signature = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest())
    return {
        "HTTP_SVIX_ID": msg_id,
        "HTTP_SVIX_TIMESTAMP": timestamp,
        "HTTP_SVIX_SIGNATURE": f"v1,bm90IHRoaXM= v1,{signature.decode()}",
    }


def test_resend_webhook_records_outcomes_and_stops_bounced_recipients(client, client_with_week, resend_fake):
    emails.deliver_weekly(client_with_week, "2026-W46", now=MONDAY_9_PARIS)
    delivered = json.dumps({"type": "email.delivered", "data": {"email_id": "em_1"}}).encode()
    bounced = json.dumps({"type": "email.bounced", "data": {"email_id": "em_2"}}).encode()
    assert (
        client.post("/webhooks/resend/", delivered, content_type="application/json", **_signed(delivered)).status_code
        == 200
    )
    again = client.post("/webhooks/resend/", delivered, content_type="application/json", **_signed(delivered))
    assert again.json()["duplicate"] is True
    client.post("/webhooks/resend/", bounced, content_type="application/json", **_signed(bounced, msg_id="msg_2"))
    delivery = ReportDelivery.objects.get()
    assert delivery.outcomes == {"ceo@acme.example": "delivered", "cmo@acme.example": "bounced"}
    assert ReportOptOut.objects.get().email == "cmo@acme.example"
    assert emails.recipients_for(client_with_week, client_with_week.report_recipient_list) == ["ceo@acme.example"]


@pytest.mark.parametrize(
    "tamper",
    ["signature", "timestamp_old", "timestamp_future", "missing", "secret"],
)
def test_resend_webhook_refuses_bad_signatures(client, db, settings, tamper):
    settings.RESEND_WEBHOOK_SECRET = SECRET
    body = b'{"type": "email.delivered", "data": {"email_id": "em_1"}}'
    headers = _signed(body)
    if tamper == "signature":
        headers["HTTP_SVIX_SIGNATURE"] = "v1,AAAA"
    elif tamper == "timestamp_old":
        headers = _signed(body, timestamp=time.time() - 301)
    elif tamper == "timestamp_future":
        headers = _signed(body, timestamp=time.time() + 301)
    elif tamper == "missing":
        headers = {}
    else:
        headers = _signed(body, secret="whsec_" + base64.b64encode(b"another").decode())
    response = client.post("/webhooks/resend/", body, content_type="application/json", **headers)
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_beat_task_enqueues_due_clients_once(client_with_week, resend_fake, django_capture_on_commit_callbacks):
    with time_machine.travel(MONDAY_9_PARIS, tick=False), django_capture_on_commit_callbacks(execute=True):
        send_weekly_reports()
        send_weekly_reports()  # the next hour: already sent, nothing more
    assert len(resend_fake.sent) == 2
    assert ReportDelivery.objects.get().period == "2026-W46"


def test_command_dry_run_and_bad_week(client_with_week, settings):
    settings.RESEND_API_KEY = ""
    out = io.StringIO()
    call_command("send_weekly_reports", "--client", "acme", "--week", "2026-W46", "--dry-run", stdout=out)
    assert "would be sent to ceo@acme.example, cmo@acme.example" in out.getvalue()
    assert not ReportDelivery.objects.exists()
    with pytest.raises(CommandError, match="--week"):
        call_command("send_weekly_reports", "--week", "2026-W60")
    with pytest.raises(CommandError, match="--client"):
        call_command("send_weekly_reports", "--client", "nope")
    call_command("send_weekly_reports", "--client", "acme", "--week", "2026-W46", stdout=out)
    assert ReportDelivery.objects.get().status == "stored"


def test_reply_notifications_are_batched_into_one_digest(inbox_world, resend_fake, settings):
    settings.REPLY_DIGEST_QUIET_SECONDS = 180
    client = inbox_world["a"]
    client.reply_notifications_enabled = True
    client.notification_recipients = "sales@acme.example"
    client.save()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        ingest(incoming(inbox_world["acc_a"], message_id="r1", text="Yes, let's talk"), source="webhook")
        ingest(
            incoming(
                inbox_world["acc_a"],
                message_id="r2",
                text="Tuesday works",
                chat_id="chat-2",
                person="ACoAAOther",
                name="Cleo Kim",
            ),
            source="webhook",
        )
        send_reply_digests()
    assert resend_fake.sent == []  # more may follow: wait for a quiet moment
    with time_machine.travel(start + dt.timedelta(minutes=4), tick=False):
        send_reply_digests()
        send_reply_digests()
    assert len(resend_fake.sent) == 1
    mail = resend_fake.sent[0]
    assert mail["to"] == ["sales@acme.example"] and "2 new replies" in mail["subject"]
    assert "Yes, let&#x27;s talk" in mail["html"] and "Tuesday works" in mail["text"] and "/inbox/" in mail["text"]
    with time_machine.travel(start + dt.timedelta(minutes=10), tick=False):
        send_reply_digests()
    assert len(resend_fake.sent) == 1


def test_no_digest_when_notifications_are_off(inbox_world, resend_fake):
    ingest(incoming(inbox_world["acc_a"], message_id="r9"), source="webhook")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=5), tick=False):
        send_reply_digests()
    assert resend_fake.sent == []


def test_resend_signature_is_compared_in_constant_time(monkeypatch):
    import hmac as hmac_module

    from reports import webhooks

    calls = []
    real = hmac_module.compare_digest
    monkeypatch.setattr(webhooks.hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    body = b"{}"
    headers = _signed(body)
    webhooks.verify(
        secret=SECRET,
        msg_id=headers["HTTP_SVIX_ID"],
        timestamp=headers["HTTP_SVIX_TIMESTAMP"],
        signatures=headers["HTTP_SVIX_SIGNATURE"],
        body=body,
    )
    assert len(calls) == 2  # every listed signature compared, none by ==
