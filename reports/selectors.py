"""Analytics, read from the rollups that leads.funnel keeps with the event log.

Date ranges are whole days in the client's timezone, end day included. Counts come from FunnelActivity and
StepActivity (a few rows per campaign and quarter hour, whatever the number of events); who reached what, and
how long it took, from LeadFunnel (one row per lead and campaign). Nothing loops over leads or days in Python.

Definitions (a lead counts once per campaign and figure):
- invitations sent, messages sent (InMails included), replies: the events in the range;
- invited, accepted, messaged, replied: the leads whose first invitation (acceptance, message or InMail, reply)
  in the campaign falls in the range; acceptance rate = accepted / invited; reply rate per invited =
  replied / invited, per connected = replied / accepted;
- time to acceptance: from a lead's first invitation to its first acceptance; time to first reply: from its first
  outreach (invitation, message or InMail) to its first reply. Median and p90 are nearest-rank percentiles over the
  leads whose acceptance (reply) falls in the range;
- per step and variant: the sends, the leads sent it for the first time in the range, the replies that answer it
  (a reply answers the last step sent to the lead before it) and the leads whose first reply to it is in the range.
"""

import datetime as dt
import math
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate

from campaigns.models import Campaign, Step
from integrations.models import ActionKind, LinkedInAccount, RateUsage
from leads.models import FunnelActivity, LeadFunnel, StepActivity


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


def campaign_scope(campaign) -> list[int]:
    return [campaign.pk]


def client_scope(client) -> list[int]:
    return list(Campaign.objects.filter(client=client).values_list("pk", flat=True))


def _activity(model, campaigns: list[int], period: Period) -> QuerySet:
    # Quarter-hour slots: every timezone's midnight is the start of one, so [start, end) takes whole days exactly.
    return model.objects.filter(campaign_id__in=campaigns, slot__gte=period.start, slot__lt=period.end)


FUNNEL_SUMS = {
    "invitations_sent": Sum("invitations"),
    "invited": Sum("invited"),
    "accepted": Sum("accepted"),
    "messages_sent": Sum("messages"),
    "messaged": Sum("messaged"),
    "replies": Sum("replies"),
    "replied": Sum("replied"),
}


def _summary_from(row: dict) -> Summary:
    summary = Summary(**{name: row.get(name) or 0 for name in FUNNEL_SUMS})
    summary.acceptance_rate = _ratio(summary.accepted, summary.invited)
    summary.reply_rate_invited = _ratio(summary.replied, summary.invited)
    summary.reply_rate_connected = _ratio(summary.replied, summary.accepted)
    return summary


def _hours(value) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 1)


def _durations(campaigns: list[int], period: Period, began: str, ended: str) -> dict:
    """Median and p90 hours from `began` to `ended` over the leads whose `ended` falls in the period."""
    took = ExpressionWrapper(F(ended) - F(began), output_field=DurationField())
    leads = (
        LeadFunnel.objects.filter(
            campaign_id__in=campaigns, **{f"{ended}__gte": period.start, f"{ended}__lt": period.end}
        )
        .filter(**{f"{began}__isnull": False, f"{ended}__gte": F(began)})
        .annotate(took=took)
    )
    if connection.vendor == "postgresql":
        return _durations_postgres(leads.values("took"))
    count = leads.count()
    if not count:
        return {"median_hours": None, "p90_hours": None, "leads": 0}
    ordered = leads.order_by("took", "pk").values_list("took", flat=True)

    def rank(p: float) -> float:
        return _hours(ordered[max(0, math.ceil(p * count) - 1)])

    return {"median_hours": rank(0.5), "p90_hours": rank(0.9), "leads": count}


def _durations_postgres(took: QuerySet) -> dict:
    """Both percentiles (nearest rank: percentile_disc) out of one sort, in memory.

    The durations come from Django's compiled query, its values bound as parameters: nothing is pasted in."""
    try:
        inner, params = took.query.sql_with_params()
    except EmptyResultSet:  # no campaign to look at
        return {"median_hours": None, "p90_hours": None, "leads": 0}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")  # a client's 400,000 durations sort without touching disk
        cursor.execute(
            "SELECT COUNT(*), percentile_disc(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY took)"  # noqa: S608
            f" FROM ({inner}) AS durations",
            params,
        )
        count, ranks = cursor.fetchone()
    p50, p90 = ranks or (None, None)
    return {"median_hours": _hours(p50), "p90_hours": _hours(p90), "leads": count}


def summary(campaigns: list[int], period: Period) -> Summary:
    result = _summary_from(_activity(FunnelActivity, campaigns, period).aggregate(**FUNNEL_SUMS))
    result.time_to_acceptance = _durations(campaigns, period, "invited_at", "accepted_at")
    result.time_to_reply = _durations(campaigns, period, "outreach_at", "replied_at")
    return result


def summaries_by_campaign(campaigns: list[int], period: Period) -> dict[int, Summary]:
    """One Summary per campaign with activity in the period (no percentiles), in one query."""
    rows = _activity(FunnelActivity, campaigns, period).values("campaign_id").annotate(**FUNNEL_SUMS).order_by()
    return {row["campaign_id"]: _summary_from(row) for row in rows if any(row[name] for name in FUNNEL_SUMS)}


def account_results(accounts: QuerySet[LinkedInAccount], period: Period, campaigns: list[int] | None = None) -> dict:
    """Per account: the leads whose first outreach it sent that were invited, accepted and replied in the period
    (a covering index: the funnel table itself is not read)."""
    funnels = LeadFunnel.objects.filter(account__in=list(accounts.values_list("pk", flat=True)))
    if campaigns is not None:
        funnels = funnels.filter(campaign_id__in=campaigns)

    def inside(name):
        return Q(**{f"{name}__gte": period.start, f"{name}__lt": period.end})

    rows = (
        funnels.values("account_id")
        .annotate(
            invited=Count("pk", filter=inside("invited_at")),
            accepted=Count("pk", filter=inside("accepted_at")),
            replied=Count("pk", filter=inside("replied_at")),
        )
        .order_by()
    )
    return {row["account_id"]: _summary_from(row) for row in rows}


def daily_series(campaigns: list[int], period: Period) -> list[dict]:
    """Per day of the period: invitations, acceptances, messages (with InMails) and replies."""
    rows = (
        _activity(FunnelActivity, campaigns, period)
        .annotate(day=TruncDate("slot", tzinfo=period.zone))
        .values("day")
        .annotate(
            invites=Sum("invitations"), accepted=Sum("acceptances"), messages=Sum("messages"), replies=Sum("replies")
        )
        .order_by()
    )
    by_day = {day: {"day": day, "invites": 0, "accepted": 0, "messages": 0, "replies": 0} for day in period.days}
    for row in rows:
        if row["day"] in by_day:
            by_day[row["day"]].update({name: row[name] for name in ("invites", "accepted", "messages", "replies")})
    return list(by_day.values())


def step_variants(campaigns: list[int], period: Period) -> list[dict]:
    """Per step and A/B variant: the sends, the leads sent it, the replies that answer it and the leads who did."""
    rows = (
        _activity(StepActivity, campaigns, period)
        .values("campaign_id", "step", "variant")
        .annotate(sent=Sum("sent"), leads=Sum("leads"), replies=Sum("replies"), replied=Sum("replied"))
        .order_by("campaign_id", "step", "variant")
    )
    rows = [row for row in rows if any(row[name] for name in ("sent", "leads", "replies", "replied"))]
    # Each row names its node: the step's label (or what it does), one query for all of them.
    nodes = {
        (s.campaign_id, s.position): s
        for s in Step.objects.filter(
            campaign_id__in={row["campaign_id"] for row in rows}, position__in={row["step"] for row in rows}
        ).only("id", "campaign_id", "position", "label", "action", "condition", "within_days", "delay_days")
    }
    result = []
    for row in rows:
        node = nodes.get((row["campaign_id"], row["step"]))
        result.append(
            {
                "campaign": row["campaign_id"],
                "step": row["step"],
                "step_id": node.pk if node else None,
                "label": f"{row['step']}. {node.display_label}" if node else f"Step {row['step']}",
                "variant": row["variant"],
                **{name: row[name] for name in ("sent", "leads", "replies", "replied")},
                "reply_rate": _ratio(row["replied"], row["leads"]),
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
