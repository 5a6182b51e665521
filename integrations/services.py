"""Writes on sender accounts and their usage counters."""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.utils import timezone

from . import outbound
from .models import AccountNotice, AccountStatusChange, LinkedInAccount, RateUsage, SyncState
from .unipile import NotFound, UnipileClient, UnipileError

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


# What a failing call tells about the account's status (the rest of the account problems pause it only).
STATUS_FOR_ERROR_TYPE = {
    "disconnected_account": LinkedInAccount.Status.CREDENTIALS,
    "missing_credentials": LinkedInAccount.Status.CREDENTIALS,
    "checkpoint_error": LinkedInAccount.Status.CHECKPOINT,
}


@dataclass(frozen=True)
class StatusApplied:
    applied: bool
    changed: bool
    message: str


@transaction.atomic
def account_record_status(
    *,
    account: LinkedInAccount,
    status: str,
    source: str,
    when: dt.datetime | None = None,
    detail: str = "",
) -> StatusApplied:
    """The one way an account's status changes (webhook, sync, a failing call, hosted auth).

    Under the account's row lock, an observation older than the status in force loses. Leaving the working
    statuses pauses the account (unless an operator already did) and, for a status its owner must fix, opens a
    disconnection period with one email; coming back resumes what the status paused, never an operator's pause."""
    when = when or timezone.now()
    locked = LinkedInAccount.objects.select_for_update().get(pk=account.pk)
    if locked.status_changed_at and when < locked.status_changed_at:
        return StatusApplied(
            False,
            False,
            f"{locked}: {status} of {when:%Y-%m-%d %H:%M:%S} is older than the status in force "
            f"({locked.status} of {locked.status_changed_at:%Y-%m-%d %H:%M:%S}): not applied",
        )
    previous = locked.status
    fields = {"status": status, "status_changed_at": when}
    working = status in LinkedInAccount.WORKING_STATUSES
    if working:
        fields["disconnected_since"] = None
    elif status in LinkedInAccount.RECONNECT_STATUSES and locked.disconnected_since is None:
        fields["disconnected_since"] = when
    LinkedInAccount.objects.filter(pk=locked.pk).update(**fields)
    for name, value in fields.items():
        setattr(account, name, value)
    if status != previous:
        AccountStatusChange.objects.create(
            account=locked, status=status, previous=previous, source=source, detail=detail[:300], occurred_at=when
        )
    message = f"{locked}: {status}"
    if not working:
        if not locked.paused:
            account_pause(account=account, reason=f"Unipile status {status}", source=LinkedInAccount.PauseSource.STATUS)
        message += ", paused"
    elif locked.paused and locked.pause_source == LinkedInAccount.PauseSource.STATUS:
        account_resume(account=account)
        message += ", resumed"
    account_data = {"account": {"id": locked.pk, "name": locked.name, "status": status, "previous": previous}}
    if working and locked.disconnected_since is not None:
        outbound.emit(client_id=locked.client_id, type="account.reconnected", data=account_data)
    if fields.get("disconnected_since") and fields["disconnected_since"] == when:
        outbound.emit(client_id=locked.client_id, type="account.disconnected", data=account_data)
        notice, created = AccountNotice.objects.get_or_create(
            account=locked, kind=AccountNotice.Kind.DISCONNECTED, period_start=when
        )
        if created:
            from .tasks import send_account_notice

            transaction.on_commit(lambda: send_account_notice.delay(notice.pk))
    return StatusApplied(True, status != previous, message)


@dataclass
class AccountSyncResult:
    account: LinkedInAccount
    found: bool
    status_before: str
    message: str


def account_apply_remote(*, account: LinkedInAccount, remote, source: str) -> None:
    """What Unipile says of an account: own provider id, kind, premium, status."""
    fields = {}
    if remote.own_provider_id:
        fields["provider_id"] = remote.own_provider_id
    if remote.kind:
        fields["kind"] = remote.kind
    if remote.is_premium is not None:
        fields["is_premium"] = remote.is_premium
    if fields:
        LinkedInAccount.objects.filter(pk=account.pk).update(**fields)
        for name, value in fields.items():
            setattr(account, name, value)
    if remote.status in LinkedInAccount.Status.values and remote.status != account.status:
        account_record_status(account=account, status=remote.status, source=source)


def account_sync(*, accounts, client: UnipileClient | None = None) -> list[AccountSyncResult]:
    """Ask Unipile about our accounts: store their status, own provider id, kind and premium. One list call."""
    client = client or UnipileClient.from_settings()
    remote = {a.id: a for a in client.list_accounts()}
    results = []
    for account in accounts:
        before = account.status
        found = remote.get(account.unipile_account_id)
        if found is None:
            if account.status != LinkedInAccount.Status.DELETED:
                account_record_status(
                    account=account,
                    status=LinkedInAccount.Status.DELETED,
                    source=AccountStatusChange.Source.SYNC,
                    detail="not found at Unipile",
                )
            message = f"{account}: not found at Unipile (marked deleted)."
        else:
            account_apply_remote(account=account, remote=found, source=AccountStatusChange.Source.SYNC)
            message = f"{account}: {account.status}, own id {account.provider_id or 'unknown'}."
        results.append(
            AccountSyncResult(account=account, found=found is not None, status_before=before, message=message)
        )
    return results


class AccountIdRefused(Exception):
    """The Unipile account id cannot be used: the message names the problem (for the unipile_account_id field)."""


def account_check_unipile_id(*, unipile_account_id: str, client: UnipileClient | None = None):
    """What Unipile has under this id, checked before an account is added by hand. Refuses a made-up id, one
    bound to a client already, and says so when Unipile cannot be asked."""
    bound = LinkedInAccount.objects.filter(unipile_account_id=unipile_account_id).select_related("client").first()
    if bound is not None:
        raise AccountIdRefused(
            f"This Unipile account is already connected, for {bound.client}: an account belongs to one client."
        )
    try:
        client = client or UnipileClient.from_settings()
        return client.get_account(account_id=unipile_account_id)
    except NotFound:
        raise AccountIdRefused(
            f'Unipile has no account {unipile_account_id!r}: connect the account with "Connect a LinkedIn account", '
            "or copy its id from Unipile's dashboard."
        ) from None
    except ValueError as exc:  # Unipile not configured
        raise AccountIdRefused(f"The id cannot be checked: {exc}") from None
    except UnipileError as exc:
        raise AccountIdRefused(f"Unipile did not answer ({exc}); nothing was saved, try again in a minute.") from None


@transaction.atomic
def account_create(
    *, client, unipile_account_id: str, name: str, remote=None, source=AccountStatusChange.Source.OPERATOR, **fields
) -> LinkedInAccount:
    """A new sender account for a client with the agency's default limits and a warm-up from today; its status,
    own id, kind and premium come from Unipile (`remote`, read before the transaction)."""
    values = {**settings.ACCOUNT_DEFAULT_LIMITS, **{k: v for k, v in fields.items() if v is not None}}
    account = LinkedInAccount(client=client, unipile_account_id=unipile_account_id, name=name, **values)
    if account.warmup_started_on is None:
        account.warmup_started_on = account.today()
    account.status = LinkedInAccount.Status.CONNECTING
    account.full_clean(exclude=["client"])
    account.save()
    if remote is not None:
        account_apply_remote(account=account, remote=remote, source=source)
    account.refresh_from_db()
    return account


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


def accounts_to_sync():
    return list(LinkedInAccount.objects.select_related("client").order_by("pk"))


def working_accounts():
    return (
        LinkedInAccount.objects.filter(status__in=LinkedInAccount.WORKING_STATUSES)
        .select_related("client")
        .order_by("pk")
    )
