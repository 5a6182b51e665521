"""Stale invitations: withdrawn after the invite step's withdraw-after-days, the lead marked withdrawn."""

import contextlib
import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.models import LinkedInAccount
from integrations.services import AccountNotReady, account_check_ready
from integrations.unipile import NotFound, UnipileClient, UnipileError
from leads.models import Event, EventType, Lead, LeadStatus
from leads.services import lead_transition

from ..models import OutboundAction, Step
from . import limits


@dataclass
class WithdrawResult:
    withdrawn: int = 0
    failed: int = 0
    skipped: int = 0


def _withdraw(lead: Lead, *, now: dt.datetime, reason: str, data: dict, client: UnipileClient | None) -> str:
    """Withdraw one lead's pending invitation at LinkedIn and mark the lead withdrawn: 'withdrawn', 'failed' or
    'skipped'."""
    action = (
        OutboundAction.objects.filter(lead=lead, step__action=Step.Action.INVITE, status=OutboundAction.Status.SENT)
        .order_by("-id")
        .first()
    )
    account = lead.sender or (action.account if action else None)
    if account is None:
        return "skipped"
    try:
        account_check_ready(account)
        if action and action.invitation_id and not action.invitation_id.startswith("dry-run"):
            client = client or UnipileClient.from_settings()
            # NotFound: already gone at LinkedIn (accepted, declined or expired); the lead stops all the same.
            with contextlib.suppress(NotFound):
                client.withdraw_invitation(account_id=account.unipile_account_id, invitation_id=action.invitation_id)
    except (AccountNotReady, UnipileError) as exc:
        Lead.objects.filter(pk=lead.pk).update(last_error=f"Could not withdraw the invitation: {exc}")
        return "failed"
    with transaction.atomic():
        Event.objects.create(lead=lead, account=account, type=EventType.INVITE_WITHDRAWN, occurred_at=now, data=data)
        lead_transition(lead=lead, to=LeadStatus.WITHDRAWN, reason=reason, account=account, when=now)
    return "withdrawn"


def _count(result: WithdrawResult, outcome: str) -> None:
    setattr(result, outcome, getattr(result, outcome) + 1)


def withdraw_stale_invitations(
    *, now: dt.datetime | None = None, client: UnipileClient | None = None, limit: int = 200
) -> WithdrawResult:
    now = now or timezone.now()
    result = WithdrawResult()
    client = client or _LazyClient()
    steps = Step.objects.filter(
        action=Step.Action.INVITE, withdraw_after_days__isnull=False, campaign__status__in=["active", "paused"]
    )
    for step in steps.select_related("campaign"):
        cutoff = now - dt.timedelta(days=step.withdraw_after_days)
        stale = Lead.objects.filter(
            campaign_id=step.campaign_id, status=LeadStatus.INVITED, invited_at__lte=cutoff
        ).select_related("sender")
        for lead in stale[:limit]:
            outcome = _withdraw(
                lead,
                now=now,
                reason=f"not accepted after {step.withdraw_after_days} days",
                data={"after_days": step.withdraw_after_days},
                client=client,
            )
            _count(result, outcome)
    for account in LinkedInAccount.objects.filter(status__in=LinkedInAccount.WORKING_STATUSES, paused=False):
        _count_all(result, withdraw_over_pending_cap(account=account, now=now, client=client))
    return result


def _count_all(result: WithdrawResult, other: WithdrawResult) -> None:
    for name in ("withdrawn", "failed", "skipped"):
        setattr(result, name, getattr(result, name) + getattr(other, name))


def withdraw_over_pending_cap(
    *, account: LinkedInAccount, now: dt.datetime, client: UnipileClient | None = None
) -> WithdrawResult:
    """At the pending-invitation cap, the oldest invitations pending for PENDING_INVITE_STALE_DAYS are withdrawn
    to make room (a tenth of the cap at a time, so new invitations can go out again)."""
    result = WithdrawResult()
    pending = limits.pending_invitations(account)
    if pending < account.max_pending_invitations:
        return result
    room = pending - account.max_pending_invitations + max(1, account.max_pending_invitations // 10)
    cutoff = now - dt.timedelta(days=settings.PENDING_INVITE_STALE_DAYS)
    oldest = (
        Lead.objects.filter(sender=account, status=LeadStatus.INVITED, invited_at__lte=cutoff)
        .select_related("sender")
        .order_by("invited_at", "pk")[:room]
    )
    for lead in oldest:
        outcome = _withdraw(
            lead,
            now=now,
            reason=f"withdrawn to make room: {pending} invitations pending on {account} "
            f"(at most {account.max_pending_invitations})",
            data={"pending_cap": account.max_pending_invitations, "pending": pending},
            client=client,
        )
        _count(result, outcome)
    return result


class _LazyClient:
    """The Unipile client, made on the first withdrawal: a run with nothing to withdraw needs no provider."""

    def __init__(self):
        self._client = None

    def __getattr__(self, name):
        if self._client is None:
            self._client = UnipileClient.from_settings()
        return getattr(self._client, name)
