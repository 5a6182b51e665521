"""The staff pages: scoped list, conversation, reply through the queue, double submit, actions, live poll."""

import datetime as dt

import pytest
from django.utils import timezone

from campaigns.models import OutboundAction
from inbox.ingest import ingest
from inbox.models import Conversation, Message

from .conftest import incoming


@pytest.fixture
def conversations(inbox_world):
    w = inbox_world
    ingest(incoming(w["acc_a"], message_id="a1", text="Interested, tell me more"), source="webhook")
    ingest(
        incoming(
            w["acc_b"],
            message_id="b1",
            text="Secret of Bravo",
            person="ACoAAPerson02",
            name="Bob Ray",
            chat_id="chat-b",
        ),
        source="webhook",
    )
    return Conversation.objects.get(client=w["a"]), Conversation.objects.get(client=w["b"])


def _login(client, user):
    client.force_login(user)
    return client


def test_pages_need_a_login(client, conversations):
    mine, _other = conversations
    for path in ("/inbox/", f"/inbox/{mine.pk}/", "/inbox/poll"):
        response = client.get(path)
        assert response.status_code == 302 and "/login/?next=" in response["Location"]


def test_list_shows_only_own_clients_conversations(client, inbox_world, conversations):
    _login(client, inbox_world["users"]["agent"])
    page = client.get("/inbox/").content.decode()
    assert "Ann Lee" in page and "Interested, tell me more" in page
    assert "Bob Ray" not in page and "Secret of Bravo" not in page
    assert client.get("/inbox/?q=Secret").content.decode().count("Bob Ray") == 0
    assert "Ann Lee" in client.get("/inbox/?q=tell").content.decode()


def test_other_clients_conversation_is_404(client, inbox_world, conversations):
    _mine, other = conversations
    _login(client, inbox_world["users"]["agent"])
    assert client.get(f"/inbox/{other.pk}/").status_code == 404
    assert client.post(f"/inbox/{other.pk}/reply", {"text": "hi", "form_token": "t"}).status_code == 404
    assert client.post(f"/inbox/{other.pk}/close").status_code == 404
    assert client.get(f"/inbox/poll?conversation={other.pk}").status_code == 404


def test_counters_are_scoped(client, inbox_world, conversations):
    _login(client, inbox_world["users"]["agent"])
    body = client.get("/inbox/poll").json()
    assert body["counters"]["open"] == 1 and body["counters"]["unassigned"] == 1
    assert "Bob Ray" not in body["rows_html"]


def test_opening_a_conversation_marks_it_read(client, inbox_world, conversations):
    mine, _ = conversations
    _login(client, inbox_world["users"]["agent"])
    page = client.get(f"/inbox/{mine.pk}/").content.decode()
    assert "Interested, tell me more" in page and "Founders" in page  # thread and lead card
    mine.refresh_from_db()
    assert mine.unread_count == 0


def test_reply_is_queued_on_the_sender_account_and_double_submit_sends_once(client, inbox_world, conversations):
    mine, _ = conversations
    _login(client, inbox_world["users"]["agent"])
    form = {"text": "Great, here is a link", "form_token": "tok-1"}
    first = client.post(f"/inbox/{mine.pk}/reply", form, follow=True)
    second = client.post(f"/inbox/{mine.pk}/reply", form, follow=True)
    assert "Reply queued" in first.content.decode()
    assert "already queued" in second.content.decode()
    action = OutboundAction.objects.get(conversation=mine)
    assert action.account == inbox_world["acc_a"] and action.chat_id == "chat-1" and action.status == "queued"
    assert action.step is None and not action.send_now
    assert Message.objects.filter(conversation=mine, direction="out").count() == 1
    page = client.get(f"/inbox/{mine.pk}/").content.decode()
    assert "queued" in page and "goes out in working hours" in page


def test_send_now_is_flagged_and_kicks_the_account(
    client, inbox_world, conversations, monkeypatch, django_capture_on_commit_callbacks
):
    mine, _ = conversations
    kicked = []
    from campaigns import tasks

    monkeypatch.setattr(tasks.send_account, "delay", lambda pk: kicked.append(pk))
    _login(client, inbox_world["users"]["agent"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/inbox/{mine.pk}/reply", {"text": "Now please", "form_token": "t2", "send_now": "on"})
    assert OutboundAction.objects.get(conversation=mine).send_now
    assert kicked == [inbox_world["acc_a"].pk]


def test_working_hours_hold_a_reply_unless_send_now(inbox_world, conversations):
    from campaigns.engine.sender import claim_next
    from inbox.services import conversation_reply

    mine, _ = conversations
    campaign = inbox_world["camp_a"]
    campaign.working_days = [0]
    campaign.work_start, campaign.work_end = dt.time(9), dt.time(10)
    campaign.save()
    conversation_reply(conversation=mine, text="Later", user=inbox_world["users"]["agent"])
    # The first Sunday after the reply was queued (a fixed date would fall behind the queue as time passes).
    today = timezone.localdate(timezone=campaign.timezone)
    sunday = today + dt.timedelta(days=7 - today.isoweekday() or 7)
    sunday_noon = timezone.make_aware(dt.datetime.combine(sunday, dt.time(12)), campaign.timezone)
    assert "outside working hours" in claim_next(account=inbox_world["acc_a"], now=sunday_noon).reason
    OutboundAction.objects.update(send_now=True)
    claimed = claim_next(account=inbox_world["acc_a"], now=sunday_noon)
    assert isinstance(claimed, OutboundAction) and claimed.text == "Later"


def test_viewer_cannot_reply(client, inbox_world, conversations):
    mine, _ = conversations
    _login(client, inbox_world["users"]["viewer"])
    page = client.get(f"/inbox/{mine.pk}/").content.decode()
    assert "read-only" in page and "Queue reply" not in page
    client.post(f"/inbox/{mine.pk}/reply", {"text": "x", "form_token": "t"})
    assert not OutboundAction.objects.filter(conversation=mine).exists()


def test_empty_reply_is_refused_with_a_message(client, inbox_world, conversations):
    mine, _ = conversations
    _login(client, inbox_world["users"]["agent"])
    page = client.post(f"/inbox/{mine.pk}/reply", {"text": "   ", "form_token": "t"}, follow=True).content.decode()
    assert "Write something" in page or "This field is required" in page
    assert not OutboundAction.objects.exists()


def test_actions_assign_snooze_close_reopen_unread_stop(client, inbox_world, conversations):
    mine, _ = conversations
    agent = inbox_world["users"]["agent"]
    _login(client, agent)
    client.post(f"/inbox/{mine.pk}/assign", {"assignee": "me"})
    mine.refresh_from_db()
    assert mine.assignee == agent
    client.post(f"/inbox/{mine.pk}/assign", {"assignee": str(inbox_world["users"]["other"].pk)}, follow=True)
    mine.refresh_from_db()
    assert mine.assignee == agent  # a member of another client cannot be assigned
    client.post(f"/inbox/{mine.pk}/snooze", {"preset": "1h"})
    mine.refresh_from_db()
    assert mine.status == "snoozed" and mine.snoozed_until > timezone.now()
    client.post(f"/inbox/{mine.pk}/reopen")
    client.post(f"/inbox/{mine.pk}/close")
    mine.refresh_from_db()
    assert mine.status == "closed"
    client.post(f"/inbox/{mine.pk}/reopen")
    client.post(f"/inbox/{mine.pk}/unread")
    mine.refresh_from_db()
    assert mine.status == "open" and mine.unread
    lead = inbox_world["lead_a"]
    lead.status = "messaged"
    lead.save()
    page = client.post(f"/inbox/{mine.pk}/stop", follow=True).content.decode()
    lead.refresh_from_db()
    assert lead.status == "paused" and "stopped" in page


def test_link_a_conversation_to_a_lead(client, inbox_world):
    w = inbox_world
    ingest(incoming(w["acc_a"], message_id="s1", person="ACoAAStranger", name="Sam", chat_id="c-s"), source="webhook")
    stranger = Conversation.objects.get(chat_id="c-s")
    _login(client, w["users"]["agent"])
    page = client.post(f"/inbox/{stranger.pk}/link", {"lead": w["lead_b"].pk}, follow=True).content.decode()
    assert "No lead" in page  # another client's lead
    client.post(f"/inbox/{stranger.pk}/link", {"lead": w["lead_a"].pk})
    stranger.refresh_from_db()
    assert stranger.lead == w["lead_a"]


def test_poll_returns_new_messages_after_the_last_shown(client, inbox_world, conversations):
    mine, _ = conversations
    _login(client, inbox_world["users"]["agent"])
    last = mine.messages.last().pk
    ingest(incoming(inbox_world["acc_a"], message_id="a2", text="Are you there?"), source="webhook")
    body = client.get(f"/inbox/poll?conversation={mine.pk}&after={last}").json()
    assert "Are you there?" in body["messages_html"] and body["last_id"] > last


def test_list_query_count_does_not_grow(client, inbox_world, django_assert_max_num_queries):
    w = inbox_world
    for i in range(30):
        ingest(
            incoming(w["acc_a"], message_id=f"q{i}", chat_id=f"chat-q{i}", person=f"ACoAAQ{i}", name=f"P {i}"),
            source="webhook",
        )
    _login(client, w["users"]["agent"])
    # Flat in the rows: the page, the counters, the class and label facets, the labels.
    with django_assert_max_num_queries(15):
        assert client.get("/inbox/").status_code == 200


def test_empty_inbox_has_an_empty_state(client, inbox_world):
    _login(client, inbox_world["users"]["agent"])
    assert "No conversations here" in client.get("/inbox/").content.decode()


def test_snoozed_conversations_wake_up(inbox_world, conversations):
    from inbox.tasks import wake_snoozed

    mine, _ = conversations
    Conversation.objects.filter(pk=mine.pk).update(
        status="snoozed", snoozed_until=timezone.now() - dt.timedelta(minutes=1)
    )
    assert wake_snoozed() == 1
    mine.refresh_from_db()
    assert mine.status == "open" and mine.snoozed_until is None
