"""Writes on sender accounts and their usage counters."""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.utils import timezone

from .models import LinkedInAccount, RateUsage, SyncState
from .unipile import UnipileClient

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


@transaction.atomic
def account_cool_down(*, account: LinkedInAccount, now: dt.datetime, retry_after: float | None = None) -> dt.datetime:
    """After a 429 the account sends nothing until the returned time: Retry-After when LinkedIn gave one, else
    the next step of the cool-down ladder, which starts again once the account has gone a clean hour."""
    locked = LinkedInAccount.objects.select_for_update().get(pk=account.pk)
    clean_since = now - dt.timedelta(minutes=settings.RATE_LIMIT_RESET_MINUTES)
    strikes = (
        1 if locked.rate_limited_at is None or locked.rate_limited_at < clean_since else locked.rate_limit_strikes + 1
    )
    ladder = settings.RATE_LIMIT_COOLDOWN_MINUTES
    pause = (
        dt.timedelta(seconds=retry_after)
        if retry_after
        else dt.timedelta(minutes=ladder[min(strikes, len(ladder)) - 1])
    )
    until = max(now + pause, locked.cooldown_until or now).astimezone(dt.UTC)
    LinkedInAccount.objects.filter(pk=account.pk).update(
        cooldown_until=until, rate_limit_strikes=strikes, rate_limited_at=now
    )
    account.cooldown_until, account.rate_limit_strikes, account.rate_limited_at = until, strikes, now
    return until


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


# --- Unipile ------------------------------------------------------------------------------------


class AccountNotReady(Exception):
    """The account cannot act now; the message says why. Raised before any provider call."""


def account_check_ready(account: LinkedInAccount) -> None:
    if account.status not in LinkedInAccount.WORKING_STATUSES:
        raise AccountNotReady(f"{account} is {account.get_status_display()} ({account.status}) at Unipile.")
    if account.paused:
        raise AccountNotReady(f"{account} is paused: {account.paused_reason or 'no reason given'}.")


@dataclass
class AccountSyncResult:
    account: LinkedInAccount
    found: bool
    status_before: str
    message: str


def account_sync(*, accounts, client: UnipileClient | None = None) -> list[AccountSyncResult]:
    """Ask Unipile about our accounts: store their status and own provider id. One list call for all."""
    client = client or UnipileClient.from_settings()
    remote = {a.id: a for a in client.list_accounts()}
    results = []
    for account in accounts:
        before = account.status
        found = remote.get(account.unipile_account_id)
        if found is None:
            account.status = LinkedInAccount.Status.DELETED
            message = f"{account}: not found at Unipile (marked deleted)."
        else:
            if found.status in LinkedInAccount.Status.values:
                account.status = found.status
            if found.own_provider_id:
                account.provider_id = found.own_provider_id
            message = f"{account}: {account.status}, own id {account.provider_id or 'unknown'}."
        if account.status != before:
            account.status_changed_at = timezone.now()  # a fresh observation: older status events lose to it
        account.save(update_fields=["status", "provider_id", "status_changed_at"])
        results.append(
            AccountSyncResult(account=account, found=found is not None, status_before=before, message=message)
        )
    return results


WEBHOOK_SOURCES = ("messaging", "users", "account_status")
WEBHOOK_NAME_PREFIX = "outreach"


def webhook_url(source: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/webhooks/unipile/{source}/"


def webhooks_register(*, client: UnipileClient | None = None) -> dict[str, list[str]]:
    """Exactly one webhook per source pointing at us with our secret; stale and duplicate ones are deleted."""
    if not settings.UNIPILE_WEBHOOK_SECRET:
        raise AccountActionRefused("UNIPILE_WEBHOOK_SECRET is not set: webhooks would arrive unauthenticated.")
    client = client or UnipileClient.from_settings()
    report: dict[str, list[str]] = {"kept": [], "created": [], "deleted": []}
    existing = [
        w
        for w in client.list_webhooks()
        if w.name.startswith(WEBHOOK_NAME_PREFIX) or "/webhooks/unipile/" in w.request_url
    ]
    for source in WEBHOOK_SOURCES:
        wanted_url = webhook_url(source)
        keep = None
        for hook in existing:
            if hook.source != source and not hook.request_url.endswith(f"/webhooks/unipile/{source}/"):
                continue
            good = (
                keep is None
                and hook.source == source
                and hook.request_url == wanted_url
                and hook.headers.get("Unipile-Auth") == settings.UNIPILE_WEBHOOK_SECRET
                and hook.headers.get("Content-Type") == "application/json"
            )
            if good:
                keep = hook
                report["kept"].append(f"{source}: {hook.id}")
            else:
                client.delete_webhook(webhook_id=hook.id)
                report["deleted"].append(f"{source}: {hook.id} ({hook.request_url})")
        if keep is None:
            hook_id = client.create_webhook(
                source=source,
                request_url=wanted_url,
                name=f"{WEBHOOK_NAME_PREFIX}-{source}",
                secret=settings.UNIPILE_WEBHOOK_SECRET,
            )
            report["created"].append(f"{source}: {hook_id}")
    return report


def sync_state_record(*, account: LinkedInAccount, job: str, result: str, ok: bool = True, cursor=None) -> None:
    """What a reconciliation job did for an account, shown in the admin; the cursor moves only forward."""
    state, _ = SyncState.objects.get_or_create(account=account, job=job)
    state.last_run_at, state.last_result, state.last_ok = timezone.now(), result[:300], ok
    if cursor is not None and (state.cursor is None or cursor > state.cursor):
        state.cursor = cursor
    state.save()


def sync_cursor(account: LinkedInAccount, job: str):
    return SyncState.objects.filter(account=account, job=job).values_list("cursor", flat=True).first()


def working_accounts():
    return (
        LinkedInAccount.objects.filter(status__in=LinkedInAccount.WORKING_STATUSES)
        .select_related("client")
        .order_by("pk")
    )
