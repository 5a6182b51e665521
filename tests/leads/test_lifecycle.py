import itertools

import pytest

from leads.models import ALLOWED_TRANSITIONS, Event, LeadStatus
from leads.services import (
    InvalidTransition,
    LeadActionRefused,
    lead_mark_replied,
    lead_pause,
    lead_requeue,
    lead_resume,
    lead_transition,
)
from tests.factories import LeadFactory, OutboundActionFactory

ALL = list(LeadStatus.values)
# The life cycle of DESIGN.md, written out pair by pair so a change to the table is a visible change here.
EXPECTED_ALLOWED = {
    ("pending", "invited"),
    ("pending", "connected"),
    ("pending", "messaged"),
    ("pending", "replied"),
    ("pending", "completed"),
    ("pending", "error"),
    ("pending", "paused"),
    ("pending", "opted_out"),
    ("pending", "do_not_contact"),
    ("replied", "paused"),  # an out-of-office answer: held, and resumed after the return (operators cannot pause)
    ("invited", "pending"),  # a withdrawal step: the invitation is gone, the sequence goes on
    ("invited", "connected"),
    ("invited", "replied"),
    ("invited", "completed"),
    ("invited", "withdrawn"),
    ("invited", "error"),
    ("invited", "paused"),
    ("invited", "opted_out"),
    ("invited", "do_not_contact"),
    ("connected", "messaged"),
    ("connected", "replied"),
    ("connected", "completed"),
    ("connected", "error"),
    ("connected", "paused"),
    ("connected", "opted_out"),
    ("connected", "do_not_contact"),
    ("messaged", "replied"),
    ("messaged", "completed"),
    ("messaged", "error"),
    ("messaged", "paused"),
    ("messaged", "opted_out"),
    ("messaged", "do_not_contact"),
    ("paused", "pending"),
    ("paused", "invited"),
    ("paused", "connected"),
    ("paused", "messaged"),
    ("paused", "replied"),
    ("paused", "error"),
    ("paused", "opted_out"),
    ("paused", "do_not_contact"),
    ("error", "pending"),
    ("error", "invited"),
    ("error", "connected"),
    ("error", "messaged"),
    ("error", "replied"),
    ("error", "paused"),
    ("error", "opted_out"),
    ("error", "do_not_contact"),
    ("completed", "replied"),
    ("completed", "opted_out"),
    ("completed", "do_not_contact"),
    ("withdrawn", "replied"),
    ("withdrawn", "opted_out"),
    ("withdrawn", "do_not_contact"),
    ("replied", "opted_out"),
    ("replied", "do_not_contact"),
    ("opted_out", "do_not_contact"),
}


def test_table_matches_expected_pairs():
    actual = {(a, b) for a, targets in ALLOWED_TRANSITIONS.items() for b in targets}
    assert actual == EXPECTED_ALLOWED


@pytest.mark.django_db
@pytest.mark.parametrize(("start", "target"), list(itertools.product(ALL, ALL)))
def test_every_pair(start, target):
    lead = LeadFactory(status=start)
    if (start, target) in EXPECTED_ALLOWED:
        lead_transition(lead=lead, to=target, reason="test")
        lead.refresh_from_db()
        assert lead.status == target
        event = Event.objects.get(lead=lead)
        assert event.type == "lead_status_changed"
        assert event.data["from"] == start and event.data["to"] == target
    else:
        with pytest.raises(InvalidTransition) as exc:
            lead_transition(lead=lead, to=target)
        assert LeadStatus(start).label.lower() in str(exc.value)
        lead.refresh_from_db()
        assert lead.status == start
        assert not Event.objects.filter(lead=lead).exists()


@pytest.mark.django_db
def test_pause_and_resume_return_to_previous_status_and_make_lead_due():
    lead = LeadFactory(status="connected", current_step=1)
    lead_pause(lead=lead, reason="client asked")
    assert lead.status == "paused" and lead.resume_status == "connected" and lead.next_action_at is None
    lead_resume(lead=lead)
    lead.refresh_from_db()
    assert lead.status == "connected" and lead.resume_status == "" and lead.next_action_at is not None


@pytest.mark.django_db
def test_error_then_requeue_clears_error():
    lead = LeadFactory(status="invited")
    lead_transition(lead=lead, to="error", reason="invalid_recipient")
    assert lead.last_error == "invalid_recipient"
    lead_requeue(lead=lead)
    lead.refresh_from_db()
    assert lead.status == "invited" and lead.last_error == "" and lead.next_action_at is not None


@pytest.mark.django_db
def test_requeue_refuses_a_lead_not_in_error():
    lead = LeadFactory(status="pending")
    with pytest.raises(LeadActionRefused, match="not in error"):
        lead_requeue(lead=lead)


@pytest.mark.django_db
def test_reply_sets_timestamp_and_cancels_queued_actions():
    from tests.factories import StepFactory

    lead = LeadFactory(status="messaged")
    queued = OutboundActionFactory(lead=lead, step=StepFactory(campaign=lead.campaign), status="queued")
    sent = OutboundActionFactory(lead=lead, status="sent")
    lead_mark_replied(lead=lead)
    queued.refresh_from_db()
    sent.refresh_from_db()
    assert lead.replied_at is not None
    assert queued.status == "cancelled" and sent.status == "sent"


@pytest.mark.django_db
def test_pausing_keeps_queued_actions_for_resume():
    lead = LeadFactory(status="connected")
    queued = OutboundActionFactory(lead=lead, status="queued")
    lead_pause(lead=lead)
    queued.refresh_from_db()
    assert queued.status == "queued"


@pytest.mark.django_db
def test_a_reply_cancels_waiting_retries_but_not_staff_replies():
    from tests.factories import StepFactory

    lead = LeadFactory(status="messaged")
    step = StepFactory(campaign=lead.campaign)
    retrying = OutboundActionFactory(lead=lead, step=step, status="failed")
    staff_reply = OutboundActionFactory(lead=lead, step=None, status="queued")
    lead_mark_replied(lead=lead)
    retrying.refresh_from_db()
    staff_reply.refresh_from_db()
    assert retrying.status == "cancelled" and staff_reply.status == "queued"
    lead_transition(lead=lead, to="do_not_contact")
    staff_reply.refresh_from_db()
    assert staff_reply.status == "cancelled"
