"""Triage in the inbox: labels (one at a time and in bulk, as facets), saved replies (the template checks in
the admin and the service, rendered for the lead), internal notes, and the whole story in the thread."""

import pytest
from django.urls import reverse

from campaigns.models import OutboundAction
from inbox.ingest import ingest
from inbox.models import Conversation, Label, Note, SavedReply
from inbox.services import TriageRefused, saved_reply_save
from leads.models import Event

from .conftest import incoming


@pytest.fixture
def world(inbox_world):
    w = inbox_world
    ingest(incoming(w["acc_a"], message_id="t1", text="Interested, tell me more"), source="webhook")
    ingest(incoming(w["acc_a"], message_id="t2", text="Not now", chat_id="chat-2", person="ACoAAP2", name="Al Two"),
           source="webhook")  # fmt: skip
    ingest(incoming(w["acc_b"], message_id="t3", text="Bravo", chat_id="chat-b", person="ACoAAPerson02"),
           source="webhook")  # fmt: skip
    w["hot"] = Label.objects.create(client=w["a"], name="Hot", colour="#dc2626")
    w["b_label"] = Label.objects.create(client=w["b"], name="Bravo label")
    w["mine"] = Conversation.objects.get(client=w["a"], chat_id="chat-1")
    w["second"] = Conversation.objects.get(client=w["a"], chat_id="chat-2")
    w["theirs"] = Conversation.objects.get(client=w["b"])
    return w


def test_a_label_goes_on_the_conversation_and_its_lead_and_is_a_facet(client, world):
    client.force_login(world["users"]["agent"])
    done = client.post(f"/inbox/{world['mine'].pk}/label", {"label": world["hot"].pk}, follow=True)
    assert "Label Hot added." in done.content.decode()
    assert list(world["mine"].labels.all()) == [world["hot"]]
    assert list(world["mine"].lead.labels.all()) == [world["hot"]]
    card = client.get(f"/inbox/{world['mine'].pk}/").content.decode()
    assert '<dt>Labels</dt><dd><span class="chip lead-label"' in card  # the lead card shows the lead's labels
    page = client.get("/inbox/").content.decode()
    assert "<h4>Labels</h4>" in page and "Hot" in page and "Unread, by class" in page
    filtered = client.get(f"/inbox/?status=open&label={world['hot'].pk}").content.decode()
    assert "Ann Lee" in filtered and "Al Two" not in filtered
    by_class = client.get("/inbox/?status=open&class=not_now").content.decode()
    assert "Al Two" in by_class and "Ann Lee" not in by_class
    # Another client's label is refused, and nothing is written.
    other = client.post(f"/inbox/{world['mine'].pk}/label", {"label": world["b_label"].pk}, follow=True)
    assert "Pick one of the labels of this client." in other.content.decode()
    assert world["mine"].labels.count() == 1
    client.post(f"/inbox/{world['mine'].pk}/unlabel", {"label": world["hot"].pk})
    assert world["mine"].labels.count() == 0


def test_bulk_labelling_applies_only_where_the_user_works(client, world):
    ids = [world["mine"].pk, world["second"].pk, world["theirs"].pk]
    client.force_login(world["users"]["viewer"])
    client.post(reverse("inbox:bulk-label"), {"ids": ids, "label": world["hot"].pk, "op": "add"})
    assert world["hot"].conversations.count() == 0  # a viewer only reads
    client.force_login(world["users"]["agent"])
    page = client.post(reverse("inbox:bulk-label"), {"ids": ids, "label": world["hot"].pk, "op": "add"}, follow=True)
    assert "added to 2 conversation(s). 1 skipped" in page.content.decode()
    assert set(world["hot"].conversations.all()) == {world["mine"], world["second"]}
    client.post(reverse("inbox:bulk-label"), {"ids": ids, "label": world["hot"].pk, "op": "remove"})
    assert world["hot"].conversations.count() == 0
    refused = client.post(reverse("inbox:bulk-label"), {"ids": ids, "label": world["b_label"].pk}, follow=True)
    assert "Pick a label of a client you work for." in refused.content.decode()


@pytest.mark.parametrize(
    ("text", "field", "says"),
    [("", "text", "needs a text"), ("Hi {first_name", "text", "unmatched"), ("x" * 8001, "text", "at most 8000")],
)
def test_saved_replies_are_checked_like_templates_in_the_service_and_the_admin(admin_client, world, text, field, says):
    """Parity: the same bad text through the service and the admin form, the same refusal, nothing written."""
    with pytest.raises(TriageRefused) as refused:
        saved_reply_save(client=world["a"], name="Pricing", text=text)
    assert refused.value.field == field and says in str(refused.value)
    page = admin_client.post(
        reverse("admin:inbox_savedreply_add"), {"client": world["a"].pk, "name": "Pricing", "text": text}
    )
    assert page.status_code == 200 and says in page.content.decode()
    assert not SavedReply.objects.exists()


def test_a_saved_reply_is_offered_rendered_for_the_lead(client, world):
    saved_reply_save(client=world["a"], name="Pricing", text="Hi {first_name|there}, here is our pricing.")
    client.force_login(world["users"]["agent"])
    page = client.get(f"/inbox/{world['mine'].pk}/").content.decode()
    assert 'data-text="Hi Ann, here is our pricing."' in page and "Alt+1 · Pricing" in page


def test_a_note_shows_in_the_thread_and_is_never_sent(client, world):
    client.force_login(world["users"]["agent"])
    client.post(f"/inbox/{world['mine'].pk}/note", {"note": "Called him, wants a proposal Friday"})
    assert Note.objects.get().author == world["users"]["agent"]
    assert not OutboundAction.objects.filter(conversation=world["mine"]).exists()
    page = client.get(f"/inbox/{world['mine'].pk}/").content.decode()
    assert 'class="note"' in page and "Called him, wants a proposal Friday" in page and "never sent" in page
    empty = client.post(f"/inbox/{world['mine'].pk}/note", {"note": "  "}, follow=True)
    assert "A note needs a text." in empty.content.decode() and Note.objects.count() == 1
    client.force_login(world["users"]["viewer"])
    client.post(f"/inbox/{world['mine'].pk}/note", {"note": "viewer note"})
    assert Note.objects.count() == 1


def test_the_thread_tells_the_invitation_and_the_acceptance(client, world):
    lead = world["mine"].lead
    step = lead.campaign.steps.get()
    OutboundAction.objects.create(
        lead=lead, step=step, account=world["acc_a"], action="invite", status="sent", text="Hi Ann, let's connect",
        sent_at=lead.created_at,
    )  # fmt: skip
    Event.objects.create(lead=lead, type="invite_accepted", occurred_at=lead.created_at)
    client.force_login(world["users"]["agent"])
    page = client.get(f"/inbox/{world['mine'].pk}/").content.decode()
    assert "Invitation sent: \u201cHi Ann, let&#x27;s connect\u201d" in page and "Invitation accepted" in page
    assert page.index("Invitation sent") < page.index("Interested, tell me more")


def test_counters_say_they_count_unread_conversations(client, world):
    client.force_login(world["users"]["agent"])
    page = client.get("/inbox/").content.decode()
    assert "· unread" in page and 'data-counter="open" title="unread">2<' in page
