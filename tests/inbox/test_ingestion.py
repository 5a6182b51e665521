"""Every message is upserted into its conversation once, whichever way it arrives."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from campaigns.engine.sender import send_for_account
from campaigns.models import OutboundAction
from inbox.ingest import ingest
from inbox.models import Conversation, Message
from inbox.services import conversation_reply, message_record
from tests import factories
from tests.fakes import FakeUnipile

from .conftest import incoming


def test_reply_creates_conversation_and_counts_unread(inbox_world):
    w = inbox_world
    result = ingest(incoming(w["acc_a"], message_id="m1", when=w["when"]), source="webhook")
    assert result.new_reply and result.note.startswith("reply from lead")
    assert not ingest(incoming(w["acc_a"], message_id="m1", when=w["when"]), source="polling").new_reply
    conversation = Conversation.objects.get()
    assert conversation.lead == w["lead_a"] and conversation.client == w["a"]
    assert conversation.unread_count == 1 and conversation.unread
    assert conversation.last_message_preview == "Sounds good!" and conversation.last_message_inbound
    assert conversation.person_name == "Ann Lee"
    assert conversation.participants.get().provider_id == "ACoAAPerson01"


def test_the_same_message_twice_is_stored_once(inbox_world):
    w = inbox_world
    ingest(incoming(w["acc_a"], message_id="m1"), source="webhook")
    ingest(incoming(w["acc_a"], message_id="m1"), source="polling")
    ingest(incoming(w["acc_a"], message_id="m1"), source="webhook")
    assert Message.objects.count() == 1
    assert Conversation.objects.get().unread_count == 1


def test_older_message_does_not_replace_the_preview(inbox_world):
    w = inbox_world
    now = timezone.now()
    ingest(incoming(w["acc_a"], message_id="new", text="Newest", when=now), source="webhook")
    ingest(incoming(w["acc_a"], message_id="old", text="Older", when=now - dt.timedelta(hours=1)), source="polling")
    conversation = Conversation.objects.get()
    assert conversation.last_message_preview == "Newest" and conversation.unread_count == 2
    assert list(conversation.messages.values_list("text", flat=True)) == ["Older", "Newest"]


def test_message_from_someone_who_is_not_a_lead_is_kept(inbox_world):
    w = inbox_world
    ingest(
        incoming(w["acc_a"], message_id="x1", person="ACoAAStranger", name="Sam Stranger", chat_id="c-x"),
        source="webhook",
    )
    conversation = Conversation.objects.get(chat_id="c-x")
    assert conversation.lead is None and conversation.person_name == "Sam Stranger"


def test_a_reply_reopens_a_closed_conversation(inbox_world):
    w = inbox_world
    ingest(incoming(w["acc_a"], message_id="m1"), source="webhook")
    Conversation.objects.update(status="closed", unread_count=0, unread=False)
    ingest(incoming(w["acc_a"], message_id="m2", text="One more thing"), source="webhook")
    conversation = Conversation.objects.get()
    assert conversation.status == "open" and conversation.unread_count == 1


def test_engine_sends_land_in_the_conversation(inbox_world):
    w = inbox_world
    lead = w["lead_a"]
    lead.status, lead.current_step, lead.chat_id = "connected", 0, ""
    lead.save()
    fake = FakeUnipile()
    fake.connected.add(lead.provider_id)
    step = w["camp_a"].steps.get()
    OutboundAction.objects.create(lead=lead, step=step, account=w["acc_a"], action="message", text="Hi Ann")
    with _working_hours(w["camp_a"]):
        result = send_for_account(account_id=w["acc_a"].pk, client=fake)
    assert result.outcome == "sent", result
    message = Message.objects.get()
    assert message.direction == "out" and message.text == "Hi Ann" and message.delivery == ("sent", "")
    assert message.conversation.lead == lead and not message.conversation.unread
    # The provider echoes our own message back as a webhook: still one message.
    ingest(
        incoming(
            w["acc_a"],
            message_id=message.provider_message_id,
            text="Hi Ann",
            inbound=False,
            chat_id=message.conversation.chat_id,
        ),
        source="webhook",
    )
    assert Message.objects.count() == 1


class _working_hours:
    """Every day, all day, for the campaign: the send test is about recording, not calendars."""

    def __init__(self, campaign):
        self.campaign = campaign

    def __enter__(self):
        import datetime as dt

        self.campaign.work_start, self.campaign.work_end = dt.time(0, 0), dt.time(23, 59, 59)
        self.campaign.working_days = [0, 1, 2, 3, 4, 5, 6]
        self.campaign.save()

    def __exit__(self, *exc):
        return False


def test_staff_reply_echo_is_matched_to_the_queued_message(inbox_world):
    w = inbox_world
    ingest(incoming(w["acc_a"], message_id="m1"), source="webhook")
    conversation = Conversation.objects.get()
    message, _ = conversation_reply(conversation=conversation, text="Happy to help", user=w["users"]["agent"])
    # The webhook of our own message arrives before the sender recorded the provider id.
    ingest(incoming(w["acc_a"], message_id="prov-77", text="Happy to help", inbound=False), source="webhook")
    message.refresh_from_db()
    assert message.provider_message_id == "prov-77"
    assert conversation.messages.count() == 2


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL for concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_counters_add_up_under_concurrent_ingestion():
    account = factories.AccountFactory()
    conversation = Conversation.objects.create(client=account.client, account=account, chat_id="c-1")
    barrier = threading.Barrier(8)
    errors = []

    def worker(n):
        try:
            barrier.wait()
            for i in range(5):
                message_record(
                    conversation=conversation,
                    inbound=True,
                    text=f"{n}-{i}",
                    provider_message_id=f"p-{i}" if n % 2 else f"m-{n}-{i}",
                    sent_at=timezone.now(),
                )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    stored = Message.objects.filter(conversation=conversation).count()
    conversation.refresh_from_db()
    assert stored == 4 * 5 + 5  # 4 writers with their own ids, 4 writers sharing five ids
    assert conversation.unread_count == stored
