"""Writes on leads. Every status change goes through lead_transition."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations import outbound

from .dnc import DncEntry, dnc_entries_for_lead, dnc_leads_matching, dnc_parse
from .importing import Outcome, classify, import_records, lead_payload_of
from .models import (
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    HOLD_STATUSES,
    DoNotContact,
    Event,
    EventType,
    Lead,
    LeadStatus,
)
from .signals import lead_stopped

TIMESTAMP_FOR_STATUS = {
    LeadStatus.INVITED: "invited_at",
    LeadStatus.CONNECTED: "connected_at",
    LeadStatus.REPLIED: "replied_at",
}


class InvalidTransition(Exception):
    code = "invalid_state_transition"

    def __init__(self, lead: Lead, to: str):
        self.lead, self.from_status, self.to_status = lead, lead.status, to
        super().__init__(
            f"Lead {lead.pk} is {LeadStatus(lead.status).label.lower()} and cannot become "
            f"{LeadStatus(to).label.lower()}."
        )


class LeadActionRefused(Exception):
    """An operator action that does not apply to this lead; the message says why."""


# The outbound webhook event (besides lead.status_changed) a status change is. lead.replied is written where the
# reply is known (inbox ingestion), with its text.
EVENT_OUT_FOR_STATUS = {
    LeadStatus.INVITED: "lead.invited",
    LeadStatus.CONNECTED: "lead.connected",
    LeadStatus.MESSAGED: "lead.messaged",
    LeadStatus.OPTED_OUT: "lead.opted_out",
    LeadStatus.DO_NOT_CONTACT: "lead.opted_out",
}


def lead_emit(*, lead: Lead, type: str, data: dict | None = None) -> None:
    """An outbound webhook event about a lead, in the caller's transaction (integrations.outbound)."""
    outbound.emit(
        client_id=lead.campaign.client_id,
        type=type,
        data={"lead": lead_payload_of(lead), **(data or {})},
        lead_id=lead.pk,
    )


def _lock(lead: Lead) -> Lead:
    return Lead.objects.select_for_update().get(pk=lead.pk)


def _refresh_from(target: Lead, source: Lead) -> None:
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


@transaction.atomic
def lead_transition(
    *,
    lead: Lead,
    to: str,
    reason: str = "",
    actor=None,
    account=None,
    when=None,
    next_action_at=None,
    data: dict | None = None,
) -> Lead:
    """Move a lead to another status, or raise InvalidTransition. Writes a lead_status_changed Event."""
    to = LeadStatus(to)
    when = when or timezone.now()
    locked = _lock(lead)
    if not locked.can_transition_to(to):
        raise InvalidTransition(locked, to)
    from_status = locked.status

    locked.status = to
    if to in HOLD_STATUSES:
        if from_status in ACTIVE_STATUSES:
            locked.resume_status = from_status
    else:
        locked.resume_status = ""
    if to == LeadStatus.ERROR:
        locked.last_error = reason or "Stopped by an error."
    elif from_status == LeadStatus.ERROR:
        locked.last_error = ""
    data = dict(data or {})
    if (stamp := TIMESTAMP_FOR_STATUS.get(to)) and getattr(locked, stamp) is None:
        stamped = locked.milestone_time(stamp, when)
        setattr(locked, stamp, stamped)
        if stamped != when:
            data.update(provider_time=when.isoformat(), recorded_as=stamped.isoformat())
    locked.next_action_at = next_action_at if to in ACTIVE_STATUSES else None
    locked.save()

    Event.objects.create(
        lead=locked,
        account=account,
        type=EventType.LEAD_STATUS_CHANGED,
        occurred_at=when,
        data={
            "from": from_status,
            "to": to.value,
            "reason": reason,
            "actor": str(actor) if actor else "",
            **data,
        },
    )
    change = {"from": from_status, "to": to.value, "reason": reason, "at": when}
    lead_emit(lead=locked, type="lead.status_changed", data=change)
    if event_type := EVENT_OUT_FOR_STATUS.get(to):
        lead_emit(lead=locked, type=event_type, data=change)
    if to in FINAL_STATUSES:
        # Replies typed by staff still go out, unless the person asked not to be contacted at all.
        lead_stopped.send(
            sender=Lead,
            lead=locked,
            reason=f"Lead {to.label.lower()}.",
            staff_replies_too=to in (LeadStatus.OPTED_OUT, LeadStatus.DO_NOT_CONTACT),
        )
    _refresh_from(lead, locked)
    return lead


def lead_pause(*, lead: Lead, reason: str = "", actor=None) -> Lead:
    """An operator's pause: only a lead the engine is working (a replied lead is held only after an out-of-office
    answer, by inbox.services.lead_resume_after)."""
    if lead.status not in ACTIVE_STATUSES:
        raise InvalidTransition(lead, LeadStatus.PAUSED)
    return lead_transition(lead=lead, to=LeadStatus.PAUSED, reason=reason or "Paused by an operator.", actor=actor)


def lead_resume(*, lead: Lead, actor=None) -> Lead:
    """A paused or errored lead goes back where it was and is due now."""
    if lead.status not in HOLD_STATUSES:
        raise LeadActionRefused(f"Lead {lead.pk} is {lead.get_status_display().lower()}, not paused or in error.")
    return lead_transition(
        lead=lead,
        to=lead.resume_status or LeadStatus.PENDING,
        reason="Resumed by an operator.",
        actor=actor,
        next_action_at=timezone.now(),
    )


def lead_requeue(*, lead: Lead, actor=None) -> Lead:
    """An errored lead: clear the error and make it due now."""
    if lead.status != LeadStatus.ERROR:
        raise LeadActionRefused(f"Lead {lead.pk} is {lead.get_status_display().lower()}, not in error.")
    return lead_resume(lead=lead, actor=actor)


def lead_mark_replied(*, lead: Lead, actor=None, reason: str = "Marked replied by an operator.") -> Lead:
    return lead_transition(lead=lead, to=LeadStatus.REPLIED, reason=reason, actor=actor)


MOVABLE_STATUSES = frozenset(
    {LeadStatus.PENDING, LeadStatus.PAUSED, LeadStatus.ERROR, LeadStatus.COMPLETED, LeadStatus.WITHDRAWN}
)


@transaction.atomic
def lead_move(*, lead: Lead, campaign, actor=None) -> Lead:
    """Start a lead over in another campaign of the same client; its sender stays (it knows the person)."""
    locked = _lock(lead)
    if campaign.pk == locked.campaign_id:
        raise LeadActionRefused(f"Lead {lead.pk} is already in {campaign}.")
    if campaign.client_id != locked.campaign.client_id:
        raise LeadActionRefused(f"{campaign} belongs to another client.")
    if locked.status not in MOVABLE_STATUSES:
        raise LeadActionRefused(
            f"Lead {lead.pk} is {locked.get_status_display().lower()}: only pending, paused, errored, completed "
            "or withdrawn leads can move."
        )
    if locked.actions.filter(status="claimed").exists():
        raise LeadActionRefused(f"Lead {lead.pk} has an action being sent right now; try again in a minute.")
    duplicate = Lead.objects.filter(campaign=campaign).filter(
        (Q(public_identifier=locked.public_identifier) & ~Q(public_identifier=""))
        | (Q(provider_id=locked.provider_id) & ~Q(provider_id=""))
    )
    if duplicate.exists():
        raise LeadActionRefused(f"{lead} is already in {campaign}.")

    old_campaign_id, old_status = locked.campaign_id, locked.status
    lead_stopped.send(sender=Lead, lead=locked, reason="Lead moved.", staff_replies_too=False)
    locked.campaign = campaign
    locked.status = LeadStatus.PENDING
    locked.resume_status = ""
    locked.current_step = 0
    locked.step = None
    locked.condition_until = None
    locked.last_error = ""
    locked.next_action_at = timezone.now()
    locked.save()
    Event.objects.create(
        lead=locked,
        type=EventType.LEAD_MOVED,
        data={
            "from_campaign": old_campaign_id,
            "to_campaign": campaign.pk,
            "from_status": old_status,
            "actor": str(actor or ""),
        },
    )
    _refresh_from(lead, locked)
    return lead


# --- Creating leads ---------------------------------------------------------------------------


class LeadRefused(Exception):
    """The lead cannot be added: `outcome` is the import's verdict (invalid, duplicate, do not contact...)."""

    def __init__(self, outcome: str, reason: str):
        self.outcome, self.reason = outcome, reason
        super().__init__(reason)


def lead_check(*, campaign, record: dict):
    """The import's verdict on one lead, writing nothing: the checks every way in shares."""
    return next(iter(classify(campaign, [(1, record)])))


@transaction.atomic
def lead_create(*, campaign, record: dict) -> Lead:
    """One lead, through the import's checks (identifier, duplicates, do-not-contact, other campaigns)."""
    type(campaign).objects.select_for_update().filter(pk=campaign.pk).first()  # one add at a time per campaign
    result = lead_check(campaign=campaign, record=record)
    if result.outcome != Outcome.NEW:
        raise LeadRefused(result.outcome, result.reason)
    lead = result.lead
    import_records(campaign, [result])
    key = {"provider_id": lead.provider_id} if lead.provider_id else {"public_identifier": lead.public_identifier}
    return Lead.objects.get(campaign=campaign, **key)


# --- Do not contact -------------------------------------------------------------------------


class DncAlreadyListed(Exception):
    def __init__(self, entry: DncEntry):
        self.entry = entry
        super().__init__(f"{entry.value} is already on the list.")


@transaction.atomic
def dnc_add(*, client, entries: list[DncEntry], reason: str = "", user=None) -> int:
    """Add entries (client None = every client); returns how many were new. Existing ones are kept as they are."""
    existing = set(
        DoNotContact.objects.filter(
            client=client, kind__in={e.kind for e in entries}, value__in={e.value for e in entries}
        ).values_list("kind", "value")
    )
    new = {(e.kind, e.value) for e in entries} - existing
    DoNotContact.objects.bulk_create(
        [
            DoNotContact(client=client, kind=kind, value=value, reason=reason, created_by=user)
            for kind, value in sorted(new)
        ]
    )
    return len(new)


def dnc_apply(*, client, entries: list[DncEntry], user=None, reason: str = "") -> int:
    """Stop the leads the new entries name (of this client, or of every client for a global entry)."""
    leads = Lead.objects.filter(dnc_leads_matching(entries)).exclude(status=LeadStatus.DO_NOT_CONTACT)
    if client is not None:
        leads = leads.filter(campaign__client=client)
    stopped = 0
    for lead in leads.iterator(chunk_size=500):
        lead_transition(
            lead=lead, to=LeadStatus.DO_NOT_CONTACT, reason=reason or "On the do-not-contact list.", actor=user
        )
        stopped += 1
    return stopped


@transaction.atomic
def dnc_create(*, client, value: str, kind: str = "", reason: str = "", user=None) -> tuple[DoNotContact, int]:
    """One entry, normalized, and the leads it names stopped at once. Returns the entry and how many leads
    stopped; raises InvalidDncValue (the value) or DncAlreadyListed."""
    entry = dnc_parse(value, kind)
    if DoNotContact.objects.filter(client=client, kind=entry.kind, value=entry.value).exists():
        raise DncAlreadyListed(entry)
    obj = DoNotContact.objects.create(
        client=client, kind=entry.kind, value=entry.value, reason=reason.strip(), created_by=user
    )
    return obj, dnc_apply(client=client, entries=[entry], user=user, reason=reason)


@transaction.atomic
def dnc_bulk_add(*, client, entries: list[DncEntry], reason: str = "", user=None) -> tuple[int, int]:
    """Many parsed entries at once: (how many were new, how many leads stopped)."""
    added = dnc_add(client=client, entries=entries, reason=reason, user=user)
    return added, dnc_apply(client=client, entries=entries, user=user, reason=reason)


@transaction.atomic
def lead_add_to_do_not_contact(*, lead: Lead, reason: str = "", user=None) -> Lead:
    entries = dnc_entries_for_lead(lead)
    if not entries:
        raise LeadActionRefused(f"Lead {lead.pk} has no identifier or email to put on the list.")
    dnc_add(client=lead.campaign.client, entries=entries, reason=reason, user=user)
    if lead.status != LeadStatus.DO_NOT_CONTACT:
        lead_transition(
            lead=lead, to=LeadStatus.DO_NOT_CONTACT, reason=reason or "Added to do-not-contact.", actor=user
        )
    return lead
