"""Writes on leads. Every status change goes through lead_transition."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.services import AccountNotReady, account_check_ready
from integrations.unipile import RecipientProblem, UnipileClient

from .linkedin import InvalidLinkedInIdentifier, normalize_linkedin
from .models import (
    ACTIVE_STATUSES,
    HOLD_STATUSES,
    DoNotContact,
    Event,
    EventType,
    Lead,
    LeadStatus,
)

# Leaving these statuses for good cancels whatever was queued for the lead.
FINAL_STATUSES = frozenset(
    {LeadStatus.REPLIED, LeadStatus.COMPLETED, LeadStatus.OPTED_OUT, LeadStatus.WITHDRAWN, LeadStatus.DO_NOT_CONTACT}
)
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
    if to in FINAL_STATUSES:
        # Waiting retries too: a failed action must not come back after a reply. Replies typed by staff
        # (no step) still go out, unless the person asked not to be contacted at all.
        pending = locked.actions.filter(status__in=["queued", "failed"])
        if to not in (LeadStatus.OPTED_OUT, LeadStatus.DO_NOT_CONTACT):
            pending = pending.filter(step__isnull=False)
        pending.update(status="cancelled", last_error=f"Lead {to.label.lower()}.")
    _refresh_from(lead, locked)
    return lead


def lead_pause(*, lead: Lead, reason: str = "", actor=None) -> Lead:
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
    locked.actions.filter(status__in=["queued", "failed"]).update(status="cancelled", last_error="Lead moved.")
    locked.campaign = campaign
    locked.status = LeadStatus.PENDING
    locked.resume_status = ""
    locked.current_step = 0
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


# --- Do not contact -------------------------------------------------------------------------


@dataclass(frozen=True)
class DncEntry:
    kind: str
    value: str


def dnc_parse(value: str) -> DncEntry:
    """One pasted line: an email, @domain, a LinkedIn URL, slug or member id. Raises ValueError with a reason."""
    text = value.strip()
    if text.startswith("@") and "." in text and "/" not in text:
        domain = text[1:].lower()
        if not all(part and part.replace("-", "").isalnum() for part in domain.split(".")):
            raise ValueError(f"{text!r} is not an email domain.")
        return DncEntry(DoNotContact.Kind.DOMAIN, domain)
    if "@" in text and "/" not in text:
        try:
            validate_email(text)
        except ValidationError:
            raise ValueError(f"{text!r} is not a valid email address.") from None
        return DncEntry(DoNotContact.Kind.EMAIL, text.lower())
    try:
        ident = normalize_linkedin(text)
    except InvalidLinkedInIdentifier as exc:
        raise ValueError(f"{text!r}: {exc}") from None
    if ident.provider_id:
        return DncEntry(DoNotContact.Kind.PROVIDER_ID, ident.provider_id)
    return DncEntry(DoNotContact.Kind.PUBLIC_IDENTIFIER, ident.public_identifier)


def dnc_entries_for_lead(lead: Lead) -> list[DncEntry]:
    entries = []
    if lead.provider_id:
        entries.append(DncEntry(DoNotContact.Kind.PROVIDER_ID, lead.provider_id))
    if lead.public_identifier:
        entries.append(DncEntry(DoNotContact.Kind.PUBLIC_IDENTIFIER, lead.public_identifier))
    if lead.email:
        entries.append(DncEntry(DoNotContact.Kind.EMAIL, lead.email.lower()))
    return entries


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


class DncMatcher:
    """Answers 'is this person on the do-not-contact list of this client?' from sets loaded once."""

    def __init__(self, client):
        self.values: dict[str, set[str]] = {kind: set() for kind in DoNotContact.Kind.values}
        rows = DoNotContact.objects.filter(Q(client=client) | Q(client__isnull=True)).values_list("kind", "value")
        for kind, value in rows.iterator(chunk_size=5000):
            self.values[kind].add(value)

    def match(self, *, provider_id="", public_identifier="", email="") -> str:
        """The reason a person is on the list, or '' when they are not."""
        if provider_id and provider_id in self.values[DoNotContact.Kind.PROVIDER_ID]:
            return f"member id {provider_id}"
        if public_identifier and public_identifier in self.values[DoNotContact.Kind.PUBLIC_IDENTIFIER]:
            return f"profile {public_identifier}"
        if email:
            email = email.lower()
            if email in self.values[DoNotContact.Kind.EMAIL]:
                return f"email {email}"
            domain = email.rsplit("@", 1)[-1]
            if domain in self.values[DoNotContact.Kind.DOMAIN]:
                return f"domain {domain}"
        return ""


def dnc_apply(*, client, entries: list[DncEntry], user=None, reason: str = "") -> int:
    """Stop the leads the new entries name (of this client, or of every client for a global entry)."""
    by_kind: dict[str, set[str]] = {}
    for entry in entries:
        by_kind.setdefault(entry.kind, set()).add(entry.value)
    match = Q(pk__in=[])
    if values := by_kind.get(DoNotContact.Kind.PROVIDER_ID):
        match |= Q(provider_id__in=values)
    if values := by_kind.get(DoNotContact.Kind.PUBLIC_IDENTIFIER):
        match |= Q(public_identifier__in=values)
    if values := by_kind.get(DoNotContact.Kind.EMAIL):
        match |= Q(email__in=values)
    for domain in by_kind.get(DoNotContact.Kind.DOMAIN, ()):
        match |= Q(email__iendswith="@" + domain)
    leads = Lead.objects.filter(match).exclude(status=LeadStatus.DO_NOT_CONTACT)
    if client is not None:
        leads = leads.filter(campaign__client=client)
    stopped = 0
    for lead in leads.iterator(chunk_size=500):
        lead_transition(
            lead=lead, to=LeadStatus.DO_NOT_CONTACT, reason=reason or "On the do-not-contact list.", actor=user
        )
        stopped += 1
    return stopped


# --- Profile resolution ----------------------------------------------------------------------


def lead_resolve_profile(*, lead: Lead, account, client=None):
    """Look the person up once through the account and store their provider id (ACo…) on the lead.

    Refused before any call when the lead has no identifier or the account cannot act; the reason
    is stored on the lead where the operator sees it.
    """
    identifier = (
        lead.provider_id if lead.provider_id.startswith("ACo") else (lead.public_identifier or lead.provider_id)
    )
    try:
        if not identifier:
            raise LeadActionRefused(f"Lead {lead.pk} has no LinkedIn identifier to look up.")
        account_check_ready(account)
    except (LeadActionRefused, AccountNotReady) as exc:
        Lead.objects.filter(pk=lead.pk).update(last_error=str(exc))
        lead.last_error = str(exc)
        raise
    client = client or UnipileClient.from_settings()
    try:
        profile = client.get_profile(account_id=account.unipile_account_id, identifier=identifier)
    except RecipientProblem as exc:
        Lead.objects.filter(pk=lead.pk).update(last_error=f"Profile lookup failed: {exc}")
        lead.last_error = f"Profile lookup failed: {exc}"
        raise
    updates = {"provider_id": profile.provider_id, "last_error": ""}
    if profile.public_identifier and not lead.public_identifier:
        updates["public_identifier"] = profile.public_identifier.lower()
    for name, value in (("first_name", profile.first_name), ("last_name", profile.last_name)):
        if value and not getattr(lead, name):
            updates[name] = value
    Lead.objects.filter(pk=lead.pk).update(**updates)
    for name, value in updates.items():
        setattr(lead, name, value)
    return profile
