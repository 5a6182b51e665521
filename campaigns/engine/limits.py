"""Caps per account and calendar day. RateUsage is the single truth; it moves only under the
account's row lock, in the transaction that claims an action."""

import datetime as dt

from django.db.models import F, Sum

from integrations.models import ActionKind, LinkedInAccount, RateUsage
from leads.models import Lead, LeadStatus


def counter_for(kind: str) -> str:
    return RateUsage.COUNTER_FOR_KIND[ActionKind(kind)]


def weekly_invites(account: LinkedInAccount, day: dt.date) -> int:
    rows = RateUsage.objects.filter(account=account, day__gt=day - dt.timedelta(days=7), day__lte=day)
    return rows.aggregate(n=Sum("invites"))["n"] or 0


def cap_problem(account: LinkedInAccount, kind: str, day: dt.date, usage: RateUsage | None) -> str:
    """Why the account cannot take one more action of this kind today, or ''."""
    used = getattr(usage, counter_for(kind), 0) if usage else 0
    cap = account.cap_of_day(kind, day)
    if used >= cap:
        return f"daily {ActionKind(kind).label.lower()} cap reached on {account} ({used}/{cap})"
    if kind == ActionKind.INVITE and weekly_invites(account, day) >= account.weekly_invite_cap:
        free = " (a free account)" if account.is_premium is False else ""
        return f"weekly invitation cap reached on {account}{free} ({account.weekly_invite_cap})"
    return ""


def reserve(account: LinkedInAccount, kind: str, day: dt.date) -> str:
    """Count one action against today's cap. Call under the account's row lock. Returns '' or why not."""
    usage, _ = RateUsage.objects.get_or_create(account=account, day=day)
    if problem := cap_problem(account, kind, day, usage):
        return problem
    counter = counter_for(kind)
    # The condition is re-checked by the database: a second claimer cannot push past the cap.
    updated = RateUsage.objects.filter(pk=usage.pk, **{f"{counter}__lt": account.cap_of_day(kind, day)}).update(
        **{counter: F(counter) + 1}
    )
    return "" if updated else f"daily cap reached on {account}"


def refund(account_id: int, kind: str, day: dt.date | None) -> None:
    """An action counted at claim time did not happen: give the slot back so caps stay truthful."""
    if day is None:
        return
    counter = counter_for(kind)
    RateUsage.objects.filter(account_id=account_id, day=day, **{f"{counter}__gt": 0}).update(
        **{counter: F(counter) - 1}
    )


def pending_invitations(account: LinkedInAccount) -> int:
    """Invitations of ours from this account that nobody has answered yet (partial index lead_pending_invites)."""
    return Lead.objects.filter(sender=account, status=LeadStatus.INVITED).count()


def pending_invitations_problem(account: LinkedInAccount) -> str:
    """Why no new invitation may leave this account now (Unipile's guidance: a bounded pending list), or ''."""
    pending = pending_invitations(account)
    if pending >= account.max_pending_invitations:
        return (
            f"{pending} invitations pending on {account} (at most {account.max_pending_invitations}): new invitations "
            "wait until some are accepted or the stale ones are withdrawn"
        )
    return ""


def reserve_up_to(account: LinkedInAccount, kind: str, day: dt.date, wanted: int) -> int:
    """Count up to `wanted` actions against today's cap (reads of a search page); how many were granted.
    Call under the account's row lock."""
    usage, _ = RateUsage.objects.get_or_create(account=account, day=day)
    counter = counter_for(kind)
    granted = max(0, min(wanted, account.cap_of_day(kind, day) - getattr(usage, counter)))
    if granted:
        RateUsage.objects.filter(pk=usage.pk).update(**{counter: F(counter) + granted})
    return granted


def refund_many(account_id: int, kind: str, day: dt.date, count: int) -> None:
    if count > 0:
        counter = counter_for(kind)
        RateUsage.objects.filter(account_id=account_id, day=day, **{f"{counter}__gte": count}).update(
            **{counter: F(counter) - count}
        )
