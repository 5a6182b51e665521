"""Acceptances: from the new_relation webhook and from relation sync, the same code path."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.models import LinkedInAccount
from integrations.webhooks import BadPayload, register_handler
from leads.models import Event, EventType, Lead, LeadStatus
from leads.selectors import leads_of_person, pick_lead
from leads.services import lead_transition

from .engine.calendar import WorkCalendar
from .sequence import Sequence


def accept_relation(
    *, account: LinkedInAccount, provider_id: str, public_identifier: str, source: str, when: dt.datetime | None = None
) -> str:
    when = when or timezone.now()
    people = leads_of_person(client_id=account.client_id, provider_id=provider_id, public_identifier=public_identifier)
    lead = pick_lead(people, account_id=account.pk)
    if lead is None:
        return "a new connection who is not a lead"
    with transaction.atomic():
        if provider_id and not lead.provider_id:
            Lead.objects.filter(pk=lead.pk).update(provider_id=provider_id)
            lead.provider_id = provider_id
        try:
            with transaction.atomic():
                Event.objects.create(
                    lead=lead,
                    account=account,
                    type=EventType.INVITE_ACCEPTED,
                    occurred_at=when,
                    external_id=f"{account.pk}:{provider_id or public_identifier}",
                    data={"source": source},
                )
        except IntegrityError:
            return f"acceptance of lead {lead.pk} already recorded"
        if lead.status != LeadStatus.INVITED:
            # A reply may have come first; a late acceptance never moves a lead back.
            if lead.connected_at is None:
                Lead.objects.filter(pk=lead.pk).update(connected_at=lead.milestone_time("connected_at", when))
            return f"lead {lead.pk} is {lead.get_status_display().lower()}: acceptance recorded"
        # The step the lead waits at: the action after the invitation (its delay counts from the acceptance), or
        # a condition on the acceptance (decided on the planner's next run), or none (the sequence ends).
        next_step = Sequence.of(lead.campaign).place_of(lead)
        calendar = WorkCalendar.for_campaign(lead.campaign)
        due = (
            calendar.add_working_days(when, next_step.delay_days, next_step.delay_hours)
            if next_step is not None and next_step.sends
            else calendar.next_working_moment(when)
        )
        lead_transition(
            lead=lead,
            to=LeadStatus.CONNECTED,
            reason=f"invitation accepted ({source})",
            account=account,
            when=when,
            next_action_at=due,
        )
    return f"lead {lead.pk} connected"


def handle_relation_webhook(payload: dict, delivery) -> str:
    account = LinkedInAccount.objects.filter(unipile_account_id=str(payload.get("account_id") or "")).first()
    if account is None:
        return "unknown account: ignored"
    provider_id = str(payload.get("user_provider_id") or "")
    public_identifier = str(payload.get("user_public_identifier") or "").lower()
    if not provider_id and not public_identifier:
        raise BadPayload("new_relation names no user")
    return accept_relation(
        account=account, provider_id=provider_id, public_identifier=public_identifier, source="webhook"
    )


register_handler("new_relation", handle_relation_webhook)
