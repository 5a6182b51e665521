"""An account's health: what the health page (admin) and GET /api/v1/linkedin-accounts/{id}/health show.

A fixed number of queries per account: its usage of the last week, its pending invitations, the acceptance of the
last 30 days, its last failures, its status history and its campaigns."""

import datetime as dt
from dataclasses import asdict, dataclass, field

from django.db.models import Count, Min
from django.utils import timezone

from campaigns.engine.calendar import WorkCalendar
from campaigns.models import Campaign
from integrations.models import ActionKind, LinkedInAccount, RateUsage
from leads.models import Event, EventType, Lead, LeadStatus

HISTORY_ROWS = 20
ERROR_ROWS = 10


@dataclass
class KindUsage:
    kind: str
    label: str
    used_today: int
    cap_today: int
    limit: int
    left_today: int
    used_week: int


@dataclass
class Health:
    account_id: int
    name: str
    client: str
    status: str
    status_label: str
    working: bool
    needs_reconnect: bool
    disconnected_since: dt.datetime | None
    kind: str
    is_premium: bool | None
    inmail_credits: int | None
    timezone: str
    day: dt.date
    warmup_day: int | None
    warming_up: bool
    usage: list[KindUsage]
    invites_week: int
    invites_week_cap: int
    pending_invitations: int
    pending_cap: int
    oldest_pending_at: dt.datetime | None
    invited_30d: int
    accepted_30d: int
    acceptance_rate_30d: float | None
    blockers: list[str]
    paused: bool
    paused_reason: str
    pause_source: str
    paused_until: dt.datetime | None
    cooldown_until: dt.datetime | None
    history: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    campaigns: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _at(moment: dt.datetime, zone) -> str:
    return f"{timezone.localtime(moment, zone):%Y-%m-%d %H:%M} {zone}"


def next_sending_start(account: LinkedInAccount, campaigns: list[Campaign], day: dt.date) -> str:
    """When the account's caps reset and it may send again: the earliest start of working hours among its active
    campaigns after its calendar day ends (its own midnight when it sends for none)."""
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=account.calendar_tz)
    starts = []
    for campaign in campaigns:
        if campaign.status != Campaign.Status.ACTIVE:
            continue
        calendar = WorkCalendar.for_campaign(campaign)
        starts.append((calendar.next_working_moment(midnight), calendar.tz))
    if not starts:
        return _at(midnight, account.calendar_tz)
    moment, zone = min(starts, key=lambda pair: pair[0])
    return _at(moment, zone)


def account_health(account: LinkedInAccount, *, now: dt.datetime | None = None) -> Health:
    now = now or timezone.now()
    day = account.today(now)
    week = {
        row["day"]: row
        for row in RateUsage.objects.filter(account=account, day__gt=day - dt.timedelta(days=7), day__lte=day).values()
    }
    today = week.get(day, {})
    usage, capped = [], []
    for kind, counter in RateUsage.COUNTER_FOR_KIND.items():
        cap = account.cap_of_day(kind, day)
        used = today.get(counter, 0)
        usage.append(
            KindUsage(
                kind=counter,
                label=ActionKind(kind).label,
                used_today=used,
                cap_today=cap,
                limit=account.daily_limit(kind),
                left_today=max(cap - used, 0),
                used_week=sum(row[counter] for row in week.values()),
            )
        )
        if used >= cap:
            capped.append(f"{ActionKind(kind).label.lower()} cap reached ({used}/{cap})")
    invites_week = sum(row["invites"] for row in week.values())
    if invites_week >= account.weekly_invite_cap:
        capped.append(f"weekly invitation cap reached ({invites_week}/{account.weekly_invite_cap})")
    pending = Lead.objects.filter(sender=account, status=LeadStatus.INVITED).aggregate(
        n=Count("id"), oldest=Min("invited_at")
    )
    invited_ids = (
        Event.objects.filter(account=account, type=EventType.INVITE_SENT, occurred_at__gte=now - dt.timedelta(days=30))
        .values("lead_id")
        .distinct()
    )
    acceptance = Lead.objects.filter(pk__in=invited_ids).aggregate(invited=Count("id"), accepted=Count("connected_at"))
    campaigns = list(account.campaigns.order_by("name"))
    warmup_day = (
        (day - account.warmup_started_on).days + 1
        if account.warmup_started_on and day >= account.warmup_started_on
        else None
    )
    blockers = []
    if account.needs_reconnect:
        since = account.disconnected_since or account.status_changed_at
        blockers.append(
            f"disconnected ({account.get_status_display()}){' since ' + _at(since, account.calendar_tz) if since else ''}: "
            "sends again when the owner reconnects"
        )
    elif account.paused:
        lifts = (
            f"resumes by itself at {_at(account.paused_until, account.calendar_tz)}"
            if account.paused_until
            else "until someone resumes it"
        )
        blockers.append(f"paused ({account.get_pause_source_display().lower()}): {account.paused_reason}, {lifts}")
    elif account.status not in LinkedInAccount.WORKING_STATUSES:
        blockers.append(f"Unipile status {account.status}")
    if account.is_cooling_down(now):
        blockers.append(f"cooling down after a rate limit until {_at(account.cooldown_until, account.calendar_tz)}")
    if capped:
        blockers.append(f"{'; '.join(capped)}: resumes at {next_sending_start(account, campaigns, day)}")
    if pending["n"] >= account.max_pending_invitations:
        blockers.append(
            f"{pending['n']} invitations pending (at most {account.max_pending_invitations}): new invitations wait"
        )
    errors = [
        {
            "at": e.occurred_at,
            "lead": e.lead_id,
            "kind": e.data.get("kind", ""),
            "detail": e.data.get("detail", ""),
            "provider_type": e.data.get("provider_type", ""),
        }
        for e in Event.objects.filter(account=account, type=EventType.SEND_FAILED).order_by("-occurred_at")[:ERROR_ROWS]
    ]
    history = [
        {"at": c.occurred_at, "status": c.status, "previous": c.previous, "source": c.source, "detail": c.detail}
        for c in account.status_changes.order_by("-occurred_at", "-id")[:HISTORY_ROWS]
    ]
    return Health(
        account_id=account.pk,
        name=account.name,
        client=account.client.name,
        status=account.status,
        status_label=account.get_status_display(),
        working=account.can_work,
        needs_reconnect=account.needs_reconnect,
        disconnected_since=account.disconnected_since,
        kind=account.kind,
        is_premium=account.is_premium,
        inmail_credits=account.inmail_credits,
        timezone=str(account.calendar_tz),
        day=day,
        warmup_day=warmup_day,
        warming_up=any(u.cap_today < u.limit for u in usage),
        usage=usage,
        invites_week=invites_week,
        invites_week_cap=account.weekly_invite_cap,
        pending_invitations=pending["n"],
        pending_cap=account.max_pending_invitations,
        oldest_pending_at=pending["oldest"],
        invited_30d=acceptance["invited"],
        accepted_30d=acceptance["accepted"],
        acceptance_rate_30d=(acceptance["accepted"] / acceptance["invited"]) if acceptance["invited"] else None,
        blockers=blockers,
        paused=account.paused,
        paused_reason=account.paused_reason,
        pause_source=account.pause_source,
        paused_until=account.paused_until,
        cooldown_until=account.cooldown_until,
        history=history,
        errors=errors,
        campaigns=[{"id": c.pk, "name": c.name, "status": c.status} for c in campaigns],
    )
