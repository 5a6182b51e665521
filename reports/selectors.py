"""Analytics, computed in the database from the Event log.

Every figure is one GROUP BY (or a handful of indexed queries) over events filtered by campaign,
client or account and a time range; nothing loops over leads or days in Python. Date ranges are
whole days in the client's timezone, end day included.

Definitions (a lead counts once per figure, whatever the number of its events in the range):
- invited: leads with an invitation sent; accepted: leads whose invitation was accepted;
  acceptance rate = accepted / invited.
- messaged: leads sent a message or InMail; messages sent counts the messages themselves.
- replied: leads who replied; reply rate per invited = replied / invited, per connected =
  replied / accepted.
- time to acceptance: from a lead's first invitation to its first acceptance; time to first reply:
  from a lead's first outreach (invitation, message or InMail) to its first reply. Median and p90
  are nearest-rank percentiles over the leads whose acceptance (reply) falls in the range.
"""

import datetime as dt
import math
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextField,
    Value,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, Concat, TruncDate

from campaigns.models import Campaign, Step
from integrations.models import ActionKind, LinkedInAccount, RateUsage
from leads.models import FUNNEL_EVENT_TYPES, Event, EventType

E = EventType
OUTREACH_TYPES = [E.INVITE_SENT, E.MESSAGE_SENT, E.INMAIL_SENT]
MESSAGE_TYPES = [E.MESSAGE_SENT, E.INMAIL_SENT]
SERIES_TYPES = FUNNEL_EVENT_TYPES


@dataclass(frozen=True)
class Period:
    """Whole days [first, last] in a timezone, as an aware [start, end) range."""

    first: dt.date
    last: dt.date
    zone: ZoneInfo

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first, dt.time.min, tzinfo=self.zone)

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time.min, tzinfo=self.zone)

    @property
    def days(self) -> list[dt.date]:
        return [self.first + dt.timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def previous(self) -> "Period":
        length = self.last - self.first + dt.timedelta(days=1)
        return Period(self.first - length, self.last - length, self.zone)


def last_days(zone, days: int = 30, today: dt.date | None = None) -> Period:
    zone = ZoneInfo(str(zone))
    today = today or dt.datetime.now(zone).date()
    return Period(today - dt.timedelta(days=days - 1), today, zone)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class Summary:
    invitations_sent: int = 0
    invited: int = 0
    accepted: int = 0
    messages_sent: int = 0
    messaged: int = 0
    replies: int = 0
    replied: int = 0
    acceptance_rate: float | None = None
    reply_rate_invited: float | None = None
    reply_rate_connected: float | None = None
    time_to_acceptance: dict = field(default_factory=lambda: {"median_hours": None, "p90_hours": None, "leads": 0})
    time_to_reply: dict = field(default_factory=lambda: {"median_hours": None, "p90_hours": None, "leads": 0})

    @property
    def funnel(self) -> list[tuple[str, int]]:
        return [
            ("Invited", self.invited),
            ("Accepted", self.accepted),
            ("Messaged", self.messaged),
            ("Replied", self.replied),
        ]

    def as_dict(self) -> dict:
        return {
            "invitations_sent": self.invitations_sent,
            "invited": self.invited,
            "accepted": self.accepted,
            "acceptance_rate": self.acceptance_rate,
            "messages_sent": self.messages_sent,
            "messaged": self.messaged,
            "replies": self.replies,
            "replied": self.replied,
            "reply_rate_invited": self.reply_rate_invited,
            "reply_rate_connected": self.reply_rate_connected,
            "funnel": [{"stage": stage, "leads": leads} for stage, leads in self.funnel],
            "time_to_acceptance": self.time_to_acceptance,
            "time_to_reply": self.time_to_reply,
        }


# COUNT(type), not COUNT(id): the columns read are all in the covering indexes, so the table is never read.
COUNTS = {
    "invitations_sent": Count("type", filter=Q(type=E.INVITE_SENT)),
    "invited": Count("lead", filter=Q(type=E.INVITE_SENT), distinct=True),
    "accepted": Count("lead", filter=Q(type=E.INVITE_ACCEPTED), distinct=True),
    "messages_sent": Count("type", filter=Q(type__in=MESSAGE_TYPES)),
    "messaged": Count("lead", filter=Q(type__in=MESSAGE_TYPES), distinct=True),
    "replies": Count("type", filter=Q(type=E.REPLY_RECEIVED)),
    "replied": Count("lead", filter=Q(type=E.REPLY_RECEIVED), distinct=True),
}


def _in(events: QuerySet[Event], period: Period) -> QuerySet[Event]:
    return events.filter(occurred_at__gte=period.start, occurred_at__lt=period.end)


def _summary_from(row: dict) -> Summary:
    summary = Summary(**{name: row.get(name) or 0 for name in COUNTS})
    summary.acceptance_rate = _ratio(summary.accepted, summary.invited)
    summary.reply_rate_invited = _ratio(summary.replied, summary.invited)
    summary.reply_rate_connected = _ratio(summary.replied, summary.accepted)
    return summary


def _percentiles(events: QuerySet[Event], period: Period, *, start_types, end_type) -> dict:
    """Median and p90 hours from a lead's first start event to its first end event (the end in the period)."""
    per_lead = (
        events.filter(lead__isnull=False, type__in=[*start_types, end_type], occurred_at__lt=period.end)
        .values("lead")
        .annotate(
            began=Min("occurred_at", filter=Q(type__in=start_types)),
            ended=Min("occurred_at", filter=Q(type=end_type)),
        )
        .filter(began__isnull=False, ended__gte=period.start, ended__lt=period.end)
        .filter(ended__gte=F("began"))
        .annotate(took=ExpressionWrapper(F("ended") - F("began"), output_field=DurationField()))
        .order_by("took", "lead")
    )
    count = per_lead.count()
    if not count:
        return {"median_hours": None, "p90_hours": None, "leads": 0}

    def rank(p: float) -> float:
        took = per_lead.values_list("took", flat=True)[max(0, math.ceil(p * count) - 1)]
        return round(took.total_seconds() / 3600, 1)

    return {"median_hours": rank(0.5), "p90_hours": rank(0.9), "leads": count}


class PercentileDisc(Aggregate):
    """PostgreSQL's nearest-rank percentile: the first value whose cumulative share reaches the fraction."""

    function = "percentile_disc"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def _hours(value) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 1)


def _lead_counts(inside: Q | None = None) -> dict:
    """A lead's invitations, acceptances, messages and replies (those matching `inside`, when given)."""
    inside = inside or Q()
    return {
        "n_invites": Count("type", filter=inside & Q(type=E.INVITE_SENT)),
        "n_accepts": Count("type", filter=inside & Q(type=E.INVITE_ACCEPTED)),
        "n_messages": Count("type", filter=inside & Q(type__in=MESSAGE_TYPES)),
        "n_replies": Count("type", filter=inside & Q(type=E.REPLY_RECEIVED)),
    }


def _summary_postgres(events: QuerySet[Event], period: Period) -> Summary:
    """Every figure of the summary in one query: one pass over the campaign's events grouped by lead."""
    start, end = period.start, period.end
    inside = Q(occurred_at__gte=start)
    per_lead = (
        events.filter(lead__isnull=False, occurred_at__lt=end, type__in=FUNNEL_EVENT_TYPES)
        .values("lead")
        .annotate(
            # COUNT(type), not COUNT(id): every column used is in the covering index; the scan never reads the table.
            **_lead_counts(inside),
            first_invite=Min("occurred_at", filter=Q(type=E.INVITE_SENT)),
            first_outreach=Min("occurred_at", filter=Q(type__in=OUTREACH_TYPES)),
            first_accept=Min("occurred_at", filter=Q(type=E.INVITE_ACCEPTED)),
            first_reply=Min("occurred_at", filter=Q(type=E.REPLY_RECEIVED)),
        )
        .annotate(
            to_accept=ExpressionWrapper(F("first_accept") - F("first_invite"), output_field=DurationField()),
            to_reply=ExpressionWrapper(F("first_reply") - F("first_outreach"), output_field=DurationField()),
        )
    )
    zero = dt.timedelta(0)
    accepted_inside = Q(first_accept__gte=start, to_accept__gte=zero)
    replied_inside = Q(first_reply__gte=start, to_reply__gte=zero)
    with transaction.atomic(), connection.cursor() as cursor:
        # Room to group a big campaign's leads in memory instead of sorting on disk (this transaction only).
        cursor.execute("SET LOCAL work_mem = '64MB'")
        row = _aggregate(per_lead, accepted_inside, replied_inside)
    result = _summary_from(row)
    result.time_to_acceptance = {
        "median_hours": _hours(row["accept_p50"]),
        "p90_hours": _hours(row["accept_p90"]),
        "leads": row["accept_leads"],
    }
    result.time_to_reply = {
        "median_hours": _hours(row["reply_p50"]),
        "p90_hours": _hours(row["reply_p90"]),
        "leads": row["reply_leads"],
    }
    return result


def _aggregate(per_lead, accepted_inside: Q, replied_inside: Q) -> dict:
    return per_lead.aggregate(
        invitations_sent=Sum("n_invites"),
        invited=Count("lead", filter=Q(n_invites__gt=0)),
        accepted=Count("lead", filter=Q(n_accepts__gt=0)),
        messages_sent=Sum("n_messages"),
        messaged=Count("lead", filter=Q(n_messages__gt=0)),
        replies=Sum("n_replies"),
        replied=Count("lead", filter=Q(n_replies__gt=0)),
        accept_leads=Count("lead", filter=accepted_inside),
        accept_p50=PercentileDisc("to_accept", 0.5, filter=accepted_inside),
        accept_p90=PercentileDisc("to_accept", 0.9, filter=accepted_inside),
        reply_leads=Count("lead", filter=replied_inside),
        reply_p50=PercentileDisc("to_reply", 0.5, filter=replied_inside),
        reply_p90=PercentileDisc("to_reply", 0.9, filter=replied_inside),
    )


def summary(events: QuerySet[Event], period: Period) -> Summary:
    if connection.vendor == "postgresql":
        return _summary_postgres(events, period)
    # Elsewhere: the counts in one query, each percentile by ordering the per-lead durations.
    result = _summary_from(_in(events, period).aggregate(**COUNTS))
    result.time_to_acceptance = _percentiles(events, period, start_types=[E.INVITE_SENT], end_type=E.INVITE_ACCEPTED)
    result.time_to_reply = _percentiles(events, period, start_types=OUTREACH_TYPES, end_type=E.REPLY_RECEIVED)
    return result


def campaign_events(campaign) -> QuerySet[Event]:
    return Event.objects.filter(campaign=campaign)


def client_events(client) -> QuerySet[Event]:
    # The client's campaigns as a list of ids, not a join: the planner then knows how many events to
    # expect and streams the funnel index in (campaign, lead) order (2.5 s -> 1.1 s for 2,300,000 events).
    return Event.objects.filter(campaign__in=list(Campaign.objects.filter(client=client).values_list("pk", flat=True)))


def account_events(account) -> QuerySet[Event]:
    return Event.objects.filter(account=account)


def summaries_by(events: QuerySet[Event], period: Period, key: str) -> dict:
    """One Summary per value of key (campaign, account) in one query; no percentiles."""
    if connection.vendor == "postgresql":
        return _summaries_by_postgres(events, period, key)
    rows = _in(events, period).values(key).annotate(**COUNTS).order_by(key)
    return {row[key]: _summary_from(row) for row in rows}


def _summaries_by_postgres(events: QuerySet[Event], period: Period, key: str) -> dict:
    """Group by (key, lead) first, then by key: one pass instead of a sort per COUNT(DISTINCT lead).

    Django cannot group the rows of a grouped subquery again, so the outer GROUP BY wraps the compiled
    inner query; every value in it is a bound parameter of the inner query.
    """
    per_lead = (
        _in(events, period)
        .filter(lead__isnull=False, type__in=FUNNEL_EVENT_TYPES)
        .values(group_key=F(key), lead_key=F("lead"))
        .annotate(
            **_lead_counts(),
        )
        .order_by()
    )
    try:
        inner, params = per_lead.query.sql_with_params()
    except EmptyResultSet:  # nothing can match (a client without campaigns yet): no row, not a 500
        return {}
    # The inner query is compiled by Django with its values bound as parameters: nothing user-written is pasted.
    sql = (
        "SELECT group_key, SUM(n_invites), COUNT(*) FILTER (WHERE n_invites > 0),"  # noqa: S608
        " COUNT(*) FILTER (WHERE n_accepts > 0), SUM(n_messages), COUNT(*) FILTER (WHERE n_messages > 0),"
        " SUM(n_replies), COUNT(*) FILTER (WHERE n_replies > 0)"
        f" FROM ({inner}) AS per_lead GROUP BY group_key ORDER BY group_key"
    )
    names = ("invitations_sent", "invited", "accepted", "messages_sent", "messaged", "replies", "replied")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: _summary_from(dict(zip(names, map(int, row[1:]), strict=True))) for row in cursor.fetchall()}


def daily_series(events: QuerySet[Event], period: Period) -> list[dict]:
    """Per day of the period: invitations, acceptances, messages (with InMails) and replies."""
    rows = (
        _in(events, period)
        .filter(type__in=SERIES_TYPES)
        .annotate(day=TruncDate("occurred_at", tzinfo=period.zone))
        .values("day", "type")
        .annotate(n=Count("type"))
        .order_by()
    )
    by_day = {day: {"day": day, "invites": 0, "accepted": 0, "messages": 0, "replies": 0} for day in period.days}
    column = {
        E.INVITE_SENT: "invites",
        E.INVITE_ACCEPTED: "accepted",
        E.MESSAGE_SENT: "messages",
        E.INMAIL_SENT: "messages",
        E.REPLY_RECEIVED: "replies",
    }
    for row in rows:
        if row["day"] in by_day:
            by_day[row["day"]][column[row["type"]]] += row["n"]
    return list(by_day.values())


def _step_number(value) -> int | None:
    """A step position read out of an event's JSON: None for what is not one (JSON null reads as 'null' on SQLite)."""
    text = str(value) if value is not None else ""
    return int(text) if text.isdigit() else None


def step_variants(events: QuerySet[Event], period: Period) -> list[dict]:
    """Per step and A/B variant: how many were sent, and how many replies followed it.

    A reply is credited to the last step sent to that lead before the reply.
    """
    sent = (
        _in(events, period)
        .filter(type__in=OUTREACH_TYPES)
        .annotate(step=KT("data__step"), variant=KT("data__variant"))
        .exclude(step__isnull=True)
        .values("campaign_id", "step", "variant")
        .annotate(sent=Count("id"), leads=Count("lead", distinct=True))
        .order_by()
    )
    last_step = Event.objects.filter(
        lead=OuterRef("lead"), type__in=OUTREACH_TYPES, occurred_at__lte=OuterRef("occurred_at")
    ).order_by("-occurred_at", "-id")
    # One lookup per reply for "step|variant" together (two subqueries and a NULL check cost three).
    credited = last_step.annotate(
        credit=Concat(
            KT("data__step"),
            Value("|"),
            Coalesce(KT("data__variant"), Value(""), output_field=TextField()),
            output_field=TextField(),
        )
    ).values("credit")[:1]
    replies = (
        _in(events, period)
        .filter(type=E.REPLY_RECEIVED)
        .annotate(credit=Subquery(credited))
        .values("campaign_id", "credit")
        .annotate(replies=Count("type"), replied=Count("lead", distinct=True))
        .order_by()
    )
    table: dict[tuple[int, int, str], dict] = {}
    for row in sent:
        step = _step_number(row["step"])
        if step is None:  # a message outside the sequence (a staff reply) belongs to no step
            continue
        variant = row["variant"] if row["variant"] in ("A", "B") else ""
        key = (row["campaign_id"], step, variant)
        entry = table.setdefault(key, {"sent": 0, "leads": 0, "replies": 0, "replied": 0})
        entry["sent"] += row["sent"]
        entry["leads"] += row["leads"]
    for row in replies:
        step_text, _, variant = (row["credit"] or "").partition("|")
        step = _step_number(step_text)
        if step is None:  # nothing sent before the reply, or a message outside the sequence (a staff reply)
            continue
        variant = variant if variant in ("A", "B") else ""
        key = (row["campaign_id"], step, variant)
        entry = table.setdefault(key, {"sent": 0, "leads": 0, "replies": 0, "replied": 0})
        entry["replies"] += row["replies"]
        entry["replied"] += row["replied"]
    # Each row names its node: the step's label (or what it does), one query for all of them.
    nodes = {
        (s.campaign_id, s.position): s
        for s in Step.objects.filter(
            campaign_id__in={c for c, _, _ in table}, position__in={p for _, p, _ in table}
        ).only("id", "campaign_id", "position", "label", "action", "condition", "within_days", "delay_days")
    }
    result = []
    for (campaign_id, step, variant), entry in sorted(table.items(), key=lambda item: (item[0][0] or 0, *item[0][1:])):
        node = nodes.get((campaign_id, step))
        result.append(
            {
                "campaign": campaign_id,
                "step": step,
                "step_id": node.pk if node else None,
                "label": f"{step}. {node.display_label}" if node else f"Step {step}",
                "variant": variant,
                **entry,
                "reply_rate": _ratio(entry["replied"], entry["leads"]),
            }
        )
    return result


def account_usage(accounts: QuerySet[LinkedInAccount], period: Period) -> list[dict]:
    """Per account and day with activity: what was used against the daily limits."""
    rows = (
        RateUsage.objects.filter(account__in=accounts, day__gte=period.first, day__lte=period.last)
        .select_related("account")
        .order_by("account__name", "day")
    )
    return [
        {
            "account": usage.account,
            "day": usage.day,
            "invites": (usage.invites, usage.account.cap_of_day(ActionKind.INVITE, usage.day)),
            "messages": (usage.messages, usage.account.cap_of_day(ActionKind.MESSAGE, usage.day)),
            "inmails": (usage.inmails, usage.account.cap_of_day(ActionKind.INMAIL, usage.day)),
            "visits": (usage.visits, usage.account.cap_of_day(ActionKind.VISIT, usage.day)),
        }
        for usage in rows
    ]


def account_capacity(account: LinkedInAccount, kind: str, period: Period) -> int:
    """What the limits allowed over the period: each day the account existed, at its cap of that day (the
    warm-up's ramp included). Days before the account was added allowed nothing."""
    born = account.today(account.created_at)
    return sum(account.cap_of_day(kind, day) for day in period.days if day >= born)


def account_utilization(accounts: QuerySet[LinkedInAccount], period: Period) -> list[dict]:
    """Per account over the period: actions used against what the limits allowed (account_capacity)."""
    totals = (
        RateUsage.objects.filter(account__in=accounts, day__gte=period.first, day__lte=period.last)
        .values("account")
        .annotate(invites=Sum("invites"), messages=Sum("messages"), inmails=Sum("inmails"), visits=Sum("visits"))
    )
    by_account = {row["account"]: row for row in totals}
    result = []
    for account in accounts.order_by("name"):
        row = by_account.get(account.pk, {})
        invites, messages = row.get("invites") or 0, row.get("messages") or 0
        invite_capacity = account_capacity(account, ActionKind.INVITE, period)
        message_capacity = account_capacity(account, ActionKind.MESSAGE, period)
        result.append(
            {
                "account": account,
                "invites": invites,
                "invite_capacity": invite_capacity,
                "messages": messages,
                "message_capacity": message_capacity,
                "utilization": _ratio(invites + messages, invite_capacity + message_capacity),
            }
        )
    return result


def class_corrections(client, period: Period, campaign=None) -> list[dict]:
    """Reply classes staff corrected in the period (through the partial index of corrected messages): what the
    rules said, what staff set, how many times."""
    from inbox.classify import CLASSES
    from inbox.models import Message

    corrected = Message.objects.filter(
        class_corrected_at__gte=period.start, class_corrected_at__lt=period.end, conversation__client=client
    )
    if campaign is not None:
        corrected = corrected.filter(conversation__lead__campaign=campaign)
    names = dict(CLASSES)
    rows = (
        corrected.exclude(machine_class=F("reply_class"))
        .values("machine_class", "reply_class")
        .annotate(n=Count("id"))
        .order_by("-n", "machine_class")
    )
    return [
        {"said": names.get(r["machine_class"], "—"), "set": names.get(r["reply_class"], "—"), "count": r["n"]}
        for r in rows
    ]
