"""Caps per account and calendar day. RateUsage is the single truth; it moves only under the
account's row lock, in the transaction that claims an action."""

import datetime as dt

from django.conf import settings
from django.db.models import F, Sum

from integrations.models import ActionKind, LinkedInAccount, RateUsage


def counter_for(kind: str) -> str:
    return RateUsage.COUNTER_FOR_KIND[ActionKind(kind)]


def daily_cap(account: LinkedInAccount, kind: str, day: dt.date) -> int:
    """The account's limit, ramped up from its warm-up start: new accounts start low and grow each day."""
    cap = account.daily_limit(kind)
    if account.warmup_started_on and day >= account.warmup_started_on:
        days = (day - account.warmup_started_on).days
        cap = min(cap, settings.WARMUP_START_PER_DAY + settings.WARMUP_INCREASE_PER_DAY * days)
    return cap


def weekly_invites(account: LinkedInAccount, day: dt.date) -> int:
    rows = RateUsage.objects.filter(account=account, day__gt=day - dt.timedelta(days=7), day__lte=day)
    return rows.aggregate(n=Sum("invites"))["n"] or 0


def cap_problem(account: LinkedInAccount, kind: str, day: dt.date, usage: RateUsage | None) -> str:
    """Why the account cannot take one more action of this kind today, or ''."""
    used = getattr(usage, counter_for(kind), 0) if usage else 0
    cap = daily_cap(account, kind, day)
    if used >= cap:
        return f"daily {ActionKind(kind).label.lower()} cap reached on {account} ({used}/{cap})"
    if kind == ActionKind.INVITE and weekly_invites(account, day) >= account.weekly_invite_limit:
        return f"weekly invitation cap reached on {account} ({account.weekly_invite_limit})"
    return ""


def reserve(account: LinkedInAccount, kind: str, day: dt.date) -> str:
    """Count one action against today's cap. Call under the account's row lock. Returns '' or why not."""
    usage, _ = RateUsage.objects.get_or_create(account=account, day=day)
    if problem := cap_problem(account, kind, day, usage):
        return problem
    counter = counter_for(kind)
    # The condition is re-checked by the database: a second claimer cannot push past the cap.
    updated = RateUsage.objects.filter(pk=usage.pk, **{f"{counter}__lt": daily_cap(account, kind, day)}).update(
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
