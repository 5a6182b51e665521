"""Stale invitations: withdrawn after the invite step's withdraw-after-days, the lead marked withdrawn."""

import contextlib
import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from integrations.services import AccountNotReady, account_check_ready
from integrations.unipile import NotFound, UnipileClient, UnipileError
from leads.models import Event, EventType, Lead, LeadStatus
from leads.services import lead_transition

from ..models import OutboundAction, Step


@dataclass
class WithdrawResult:
    withdrawn: int = 0
    failed: int = 0
    skipped: int = 0


def withdraw_stale_invitations(
    *, now: dt.datetime | None = None, client: UnipileClient | None = None, limit: int = 200
) -> WithdrawResult:
    now = now or timezone.now()
    result = WithdrawResult()
    steps = Step.objects.filter(
        action=Step.Action.INVITE, withdraw_after_days__isnull=False, campaign__status__in=["active", "paused"]
    )
    for step in steps.select_related("campaign"):
        cutoff = now - dt.timedelta(days=step.withdraw_after_days)
        stale = Lead.objects.filter(
            campaign_id=step.campaign_id, status=LeadStatus.INVITED, invited_at__lte=cutoff
        ).select_related("sender")
        for lead in stale[:limit]:
            action = OutboundAction.objects.filter(lead=lead, step=step, status=OutboundAction.Status.SENT).first()
            account = lead.sender or (action.account if action else None)
            if account is None:
                result.skipped += 1
                continue
            try:
                account_check_ready(account)
                if action and action.invitation_id and not action.invitation_id.startswith("dry-run"):
                    client = client or UnipileClient.from_settings()
                    # NotFound: already gone at LinkedIn (accepted, declined or expired); the lead stops all the same.
                    with contextlib.suppress(NotFound):
                        client.withdraw_invitation(
                            account_id=account.unipile_account_id, invitation_id=action.invitation_id
                        )
            except (AccountNotReady, UnipileError) as exc:
                Lead.objects.filter(pk=lead.pk).update(last_error=f"Could not withdraw the invitation: {exc}")
                result.failed += 1
                continue
            with transaction.atomic():
                Event.objects.create(
                    lead=lead,
                    account=account,
                    type=EventType.INVITE_WITHDRAWN,
                    occurred_at=now,
                    data={"after_days": step.withdraw_after_days},
                )
                lead_transition(
                    lead=lead,
                    to=LeadStatus.WITHDRAWN,
                    reason=f"not accepted after {step.withdraw_after_days} days",
                    account=account,
                    when=now,
                )
            result.withdrawn += 1
    return result
