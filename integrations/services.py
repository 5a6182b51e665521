"""Writes on sender accounts and their usage counters."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.utils import timezone

from .models import LinkedInAccount, RateUsage

# Which Event types count against which counter. Names are the settled Event types of leads.Event.
EVENT_TYPES_FOR_COUNTER = {
    "invites": ["invite_sent"],
    "messages": ["message_sent"],
    "inmails": ["inmail_sent"],
    "visits": ["profile_visited"],
}


class AccountActionRefused(Exception):
    pass


@transaction.atomic
def account_pause(
    *, account: LinkedInAccount, reason: str, source: str = LinkedInAccount.PauseSource.OPERATOR, until=None
) -> LinkedInAccount:
    if not reason.strip():
        raise AccountActionRefused("A pause needs a reason, so the next operator knows why.")
    LinkedInAccount.objects.filter(pk=account.pk).update(
        paused=True, paused_reason=reason.strip()[:300], pause_source=source, paused_until=until
    )
    account.refresh_from_db(fields=["paused", "paused_reason", "pause_source", "paused_until"])
    return account


@transaction.atomic
def account_resume(*, account: LinkedInAccount) -> LinkedInAccount:
    if not account.paused:
        raise AccountActionRefused(f"{account} is not paused.")
    LinkedInAccount.objects.filter(pk=account.pk).update(
        paused=False, paused_reason="", pause_source="", paused_until=None
    )
    account.refresh_from_db(fields=["paused", "paused_reason", "pause_source", "paused_until"])
    return account


def usage_today(accounts, *, now=None) -> dict[int, RateUsage]:
    """Today's RateUsage per account id, each in its own calendar, in one query. Missing rows are zero rows."""
    now = now or timezone.now()
    accounts = list(accounts)
    days = {a.pk: a.today(now) for a in accounts}
    if not days:
        return {}
    rows = RateUsage.objects.filter(account_id__in=days, day__in=set(days.values()))
    found = {(r.account_id, r.day): r for r in rows}
    return {pk: found.get((pk, day)) or RateUsage(account_id=pk, day=day) for pk, day in days.items()}


def weekly_invites(account: LinkedInAccount, day: dt.date) -> int:
    """Invitations over the 7 days ending on `day` (a rolling week, as LinkedIn counts)."""
    rows = RateUsage.objects.filter(account=account, day__gt=day - dt.timedelta(days=7), day__lte=day)
    return sum(rows.values_list("invites", flat=True))


def _log(user, obj, message: str) -> None:
    LogEntry.objects.log_actions(
        user_id=user.pk, queryset=[obj], action_flag=CHANGE, change_message=message, single_object=True
    )


@transaction.atomic
def rate_usage_reset(*, usages, reason: str, user) -> int:
    """Set the selected counters back to zero; the reason goes to the admin log of each row."""
    if not reason.strip():
        raise AccountActionRefused("Resetting counters needs a reason.")
    count = 0
    for usage in usages.select_for_update():
        before = ", ".join(f"{name}={getattr(usage, name)}" for name in RateUsage.COUNTER_FOR_KIND.values())
        for name in RateUsage.COUNTER_FOR_KIND.values():
            setattr(usage, name, 0)
        usage.save()
        _log(user, usage, f"Counters reset (were {before}). Reason: {reason.strip()}")
        count += 1
    return count


def _day_bounds(day: dt.date, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end


@transaction.atomic
def rate_usage_recount(*, usages, user=None) -> list[tuple[RateUsage, dict]]:
    """Rebuild the selected counters from the Event log (a repair tool). Returns (row, changes) pairs."""
    changed = []
    for usage in usages.select_related("account__client").select_for_update(of=("self",)):
        start, end = _day_bounds(usage.day, usage.account.calendar_tz)
        events = usage.account.events.filter(occurred_at__gte=start, occurred_at__lt=end)
        changes = {}
        for counter, types in EVENT_TYPES_FOR_COUNTER.items():
            actual = events.filter(type__in=types).count()
            if getattr(usage, counter) != actual:
                changes[counter] = (getattr(usage, counter), actual)
                setattr(usage, counter, actual)
        if changes:
            usage.save()
            if user is not None:
                text = ", ".join(f"{k} {a} -> {b}" for k, (a, b) in changes.items())
                _log(user, usage, f"Recounted from the event log: {text}.")
        changed.append((usage, changes))
    return changed
