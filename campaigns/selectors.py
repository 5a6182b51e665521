"""Reads about campaigns and leads that need more than one query's worth of thought."""

import datetime as dt

from django.conf import settings
from django.utils import timezone

from integrations.models import LinkedInAccount, RateUsage
from leads.models import Lead, LeadStatus

from .engine import limits
from .engine.calendar import WorkCalendar
from .models import Campaign, OutboundAction, Step


def lead_blocker(lead: Lead, *, now: dt.datetime | None = None) -> str:
    """In one sentence, what the lead is waiting for, or why it is not moving."""
    now = now or timezone.now()
    campaign = lead.campaign
    if lead.status == LeadStatus.ERROR:
        return f"Stopped by an error: {lead.last_error}"
    if lead.status == LeadStatus.PAUSED:
        return "Paused by an operator."
    if lead.status not in (LeadStatus.PENDING, LeadStatus.INVITED, LeadStatus.CONNECTED, LeadStatus.MESSAGED):
        return f"Finished: {lead.get_status_display().lower()}."
    if campaign.status != Campaign.Status.ACTIVE:
        return f"Campaign is {campaign.get_status_display().lower()}."
    action = (
        OutboundAction.objects.filter(lead=lead, status__in=OutboundAction.OPEN_STATUSES)
        .select_related("account")
        .order_by("-id")
        .first()
    )
    if action is None:
        if lead.step_id and lead.step.action in (Step.Action.CONDITION, Step.Action.WAIT):
            from .sequence import lead_waiting

            text = lead_waiting(lead, now=now)
            return text[0].upper() + text[1:] + "."
        if lead.status == LeadStatus.INVITED and lead.step_id:
            since = lead.invited_at.strftime("%Y-%m-%d %H:%M") if lead.invited_at else "?"
            return (
                f"Waiting for the invitation to be accepted (sent {since} UTC) before step {lead.step.position} "
                f"\u201c{lead.step.display_label}\u201d."
            )
        if lead.status == LeadStatus.INVITED:
            since = lead.invited_at.strftime("%Y-%m-%d %H:%M") if lead.invited_at else "?"
            return f"Waiting for the invitation to be accepted (sent {since} UTC)."
        if lead.next_action_at and lead.next_action_at > now:
            return f"Next step planned for {lead.next_action_at:%Y-%m-%d %H:%M} UTC."
        return "Due now: the planner queues its next step within a minute."
    account = action.account
    if action.status == OutboundAction.Status.CLAIMED:
        if action.outcome_unknown:
            check_at = action.claimed_at + dt.timedelta(seconds=settings.SEND_UNKNOWN_GRACE_SECONDS)
            return (
                f"Outcome unknown: checking with LinkedIn at {max(check_at, now):%H:%M} UTC before anything else "
                f"is sent from {account}."
            )
        stale_at = action.claimed_at + dt.timedelta(seconds=settings.SEND_CLAIM_STALE_SECONDS)
        if stale_at <= now:
            return f"Outcome unknown (the worker sending it stopped): checking with LinkedIn at {now:%H:%M} UTC."
        return f"Being sent now by {account}."
    if account.is_cooling_down(now):
        return (
            f"Waiting: account {account} is cooling down after a rate limit until {account.cooldown_until:%H:%M} UTC."
        )
    if account.paused:
        return f"Waiting: account {account} is paused ({account.paused_reason or 'no reason given'})."
    if account.status not in LinkedInAccount.WORKING_STATUSES:
        return f"Waiting: account {account} is {account.get_status_display()} at Unipile."
    calendar = WorkCalendar.for_campaign(campaign)
    if not calendar.is_working_time(now):
        return (
            f"Queued: outside working hours; next window opens {calendar.next_working_moment(now):%Y-%m-%d %H:%M %Z}."
        )
    day = account.today(now)
    usage = RateUsage.objects.filter(account=account, day=day).first()
    if problem := limits.cap_problem(account, action.action, day, usage):
        return f"Queued: {problem}."
    if action.action == Step.Action.INVITE and (problem := limits.pending_invitations_problem(account)):
        return f"Queued: {problem}."
    if action.scheduled_for > now:
        retry = f" (retry after: {action.last_error})" if action.status == "failed" else ""
        return f"Queued for {action.scheduled_for:%Y-%m-%d %H:%M} UTC{retry}."
    if account.next_action_after and account.next_action_after > now:
        return f"Queued: {account} is spacing its actions (next after {account.next_action_after:%H:%M:%S} UTC)."
    return f"Queued: {account} sends it on its next turn."
