"""The weekly report and the reply digest: what they say, and sending each exactly once."""

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign
from integrations.mailer import MailError, mailer_configured, send_email
from integrations.models import LinkedInAccount
from outreach.branding import brand_for
from outreach.models import Client

from . import selectors
from .models import ReportDelivery, ReportOptOut
from .selectors import Period

logger = logging.getLogger("outreach.reports")
SEND_HOUR = 8  # local Monday 08:00
CLAIM_STALE = dt.timedelta(minutes=10)
UNSUBSCRIBE_SALT = "reports.unsubscribe"


# --- Weeks -----------------------------------------------------------------------------------------


def parse_week(value: str) -> tuple[int, int]:
    """'2026-W47' -> (2026, 47); ValueError naming the problem."""
    try:
        year, week = value.upper().split("-W")
        year, week = int(year), int(week)
        dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO week like 2026-W47.") from None
    return year, week


def week_period(week: str, zone) -> Period:
    year, number = parse_week(week)
    monday = dt.date.fromisocalendar(year, number, 1)
    return Period(monday, monday + dt.timedelta(days=6), ZoneInfo(str(zone)))


def week_label(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def due_week(client: Client, now: dt.datetime) -> str | None:
    """The week whose report is due for the client at `now`: last week, once local Monday 08:00 has passed."""
    local = timezone.localtime(now, ZoneInfo(str(client.timezone)))
    monday = local.date() - dt.timedelta(days=local.weekday())
    if local.weekday() == 0 and local.hour < SEND_HOUR:
        monday -= dt.timedelta(days=7)  # this Monday's 08:00 has not come yet: the report due is the one before
    return week_label(monday - dt.timedelta(days=7))


# --- Content ---------------------------------------------------------------------------------------


def _change(now_value, before_value) -> str:
    if now_value is None or before_value is None:
        return ""
    if isinstance(now_value, float):
        diff = (now_value - before_value) * 100
        return f"{diff:+.1f} pts" if diff else "±0"
    diff = now_value - before_value
    return f"{diff:+d}" if diff else "±0"


@dataclass
class WeeklyContent:
    client: Client
    week: str
    period: Period
    campaigns: list[dict]
    totals: dict
    top_steps: list[dict]
    accounts: list[dict]

    @property
    def subject(self) -> str:
        return f"{self.client.name}: your LinkedIn outreach, week {self.week.split('-W')[1]} ({self.period.first:%d %b}–{self.period.last:%d %b})"


def weekly_content(client: Client, week: str) -> WeeklyContent:
    period = week_period(week, client.timezone)
    before = period.previous()
    scope = selectors.client_scope(client)
    now_by = selectors.summaries_by_campaign(scope, period)
    before_by = selectors.summaries_by_campaign(scope, before)
    names = dict(Campaign.objects.filter(client=client).values_list("pk", "name"))
    peak = max((s.invited + s.messages_sent for s in now_by.values()), default=0) or 1
    rows = []
    for pk, s in sorted(now_by.items(), key=lambda item: names.get(item[0], "")):
        if pk is None:
            continue
        b = before_by.get(pk) or selectors.Summary()
        rows.append(
            {
                "name": names.get(pk, f"Campaign {pk}"),
                "invited": s.invited,
                "invited_change": _change(s.invited, b.invited),
                "accepted": s.accepted,
                "acceptance_rate": s.acceptance_rate,
                "acceptance_change": _change(s.acceptance_rate, b.acceptance_rate),
                "messages": s.messages_sent,
                "messages_change": _change(s.messages_sent, b.messages_sent),
                "replied": s.replied,
                "replied_change": _change(s.replied, b.replied),
                "bar": round(100 * (s.invited + s.messages_sent) / peak),
            }
        )
    total_now, total_before = selectors.summary(scope, period), selectors.summary(scope, before)
    totals = {
        "invited": total_now.invited,
        "invited_change": _change(total_now.invited, total_before.invited),
        "accepted": total_now.accepted,
        "accepted_change": _change(total_now.accepted, total_before.accepted),
        "replied": total_now.replied,
        "replied_change": _change(total_now.replied, total_before.replied),
        "acceptance_rate": total_now.acceptance_rate,
        "reply_rate": total_now.reply_rate_invited,
    }
    steps = [row for row in selectors.step_variants(scope, period) if row["replied"]]
    steps.sort(key=lambda row: (-row["replied"], row["step"] or 0))
    accounts = LinkedInAccount.objects.filter(client=client)
    health = []
    for row in selectors.account_utilization(accounts, period):
        account = row["account"]
        if account.paused:
            state = f"paused: {account.paused_reason or account.get_pause_source_display()}"
        elif not account.can_work:
            state = account.get_status_display()
        else:
            state = "working"
        health.append(
            {"name": account.name, "state": state, "ok": state == "working", "utilization": row["utilization"]}
        )
    return WeeklyContent(client, week, period, rows, totals, steps[:3], health)


def unsubscribe_token(client: Client, email: str) -> str:
    return signing.dumps({"c": client.pk, "e": email.lower()}, salt=UNSUBSCRIBE_SALT, compress=True)


def read_unsubscribe_token(token: str) -> tuple[int, str]:
    """(client id, email); signing.BadSignature when forged or garbled."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    if not isinstance(data, dict) or not isinstance(data.get("c"), int) or not isinstance(data.get("e"), str):
        raise signing.BadSignature("unexpected payload")
    return data["c"], data["e"]


def unsubscribe_url(client: Client, email: str) -> str:
    return settings.PUBLIC_BASE_URL + reverse("reports:unsubscribe", args=[unsubscribe_token(client, email)])


def render_weekly(content: WeeklyContent, recipient: str) -> tuple[str, str]:
    context = {
        "c": content,
        "unsubscribe_url": unsubscribe_url(content.client, recipient),
        "recipient": recipient,
        "brand": brand_for(content.client),
    }
    return (
        render_to_string("emails/weekly_report.html", context),
        render_to_string("emails/weekly_report.txt", context),
    )


# --- Sending once ----------------------------------------------------------------------------------


def recipients_for(client: Client, addresses: list[str]) -> list[str]:
    out = set(ReportOptOut.objects.filter(client=client).values_list("email", flat=True))
    return [address for address in addresses if address.lower() not in out]


def _claim(delivery_id: int, now: dt.datetime) -> ReportDelivery | None:
    """Take the delivery for this worker; None when another one has it or it is done."""
    open_statuses = [ReportDelivery.Status.PENDING, ReportDelivery.Status.RETRYING]
    stale = Q(status=ReportDelivery.Status.SENDING, claimed_at__lt=now - CLAIM_STALE)
    claimed = (
        ReportDelivery.objects.filter(pk=delivery_id)
        .filter(Q(status__in=open_statuses) | stale)
        .update(status=ReportDelivery.Status.SENDING, claimed_at=now)
    )
    return ReportDelivery.objects.get(pk=delivery_id) if claimed else None


def _delivery(client: Client, kind: str, period: str) -> ReportDelivery:
    try:
        with transaction.atomic():
            return ReportDelivery.objects.create(client=client, kind=kind, period=period)
    except IntegrityError:
        return ReportDelivery.objects.get(client=client, kind=kind, period=period)


def send_prepared(delivery: ReportDelivery, render, *, now: dt.datetime | None = None) -> ReportDelivery:
    """Send a claimed delivery to each recipient not yet sent to; render(recipient) -> (subject, html, text).

    The recipient's provider id is saved right after each send, and each send carries an idempotency key,
    so a retried or duplicated task never delivers to anyone twice.
    """
    now = now or timezone.now()
    if not delivery.recipients:
        ReportDelivery.objects.filter(pk=delivery.pk).update(status=ReportDelivery.Status.SKIPPED, error="")
        delivery.refresh_from_db()
        return delivery
    first_subject, first_html, first_text = render(delivery.recipients[0])
    ReportDelivery.objects.filter(pk=delivery.pk).update(subject=first_subject, html=first_html, text=first_text)
    if not mailer_configured():
        ReportDelivery.objects.filter(pk=delivery.pk).update(
            status=ReportDelivery.Status.STORED, error="RESEND_API_KEY is not set: stored, not sent."
        )
        delivery.refresh_from_db()
        return delivery
    sent_to = dict(delivery.sent_to)
    for recipient in delivery.recipients:
        if recipient in sent_to:
            continue
        subject, html, text = render(recipient)
        key = f"{delivery.kind.replace('_', '-')}/{delivery.client.slug}/{delivery.period}/{recipient}"
        headers = {}
        if delivery.kind == ReportDelivery.Kind.WEEKLY:
            headers = {
                "List-Unsubscribe": f"<{unsubscribe_url(delivery.client, recipient)}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            }
        try:
            sent_to[recipient] = send_email(
                to=recipient,
                subject=subject,
                html=html,
                text=text,
                idempotency_key=key,
                headers=headers,
                tags={"kind": delivery.kind, "client": delivery.client.slug},
            )
        except MailError as exc:
            status = ReportDelivery.Status.RETRYING if exc.retryable else ReportDelivery.Status.FAILED
            ReportDelivery.objects.filter(pk=delivery.pk).update(
                status=status, error=str(exc)[:1000], sent_to=sent_to, attempts=delivery.attempts + 1
            )
            delivery.refresh_from_db()
            if exc.retryable:
                raise
            return delivery
        ReportDelivery.objects.filter(pk=delivery.pk).update(sent_to=sent_to)
    ReportDelivery.objects.filter(pk=delivery.pk).update(
        status=ReportDelivery.Status.SENT, sent_at=now, error="", attempts=delivery.attempts + 1
    )
    delivery.refresh_from_db()
    return delivery


def deliver_weekly(client: Client, week: str, *, now: dt.datetime | None = None) -> ReportDelivery | None:
    """Send the client's report of `week` once. None when another worker has it or it is already done."""
    now = now or timezone.now()
    delivery = _delivery(client, ReportDelivery.Kind.WEEKLY, week)
    claimed = _claim(delivery.pk, now)
    if claimed is None:
        return None
    if not claimed.recipients or claimed.status != ReportDelivery.Status.RETRYING:
        # Opt-outs are honoured from the next report on: the list is fixed when a report is first tried.
        claimed.recipients = recipients_for(client, client.report_recipient_list)
        ReportDelivery.objects.filter(pk=claimed.pk).update(recipients=claimed.recipients)
    content = weekly_content(client, week)

    def render(recipient):
        html, text = render_weekly(content, recipient)
        return content.subject, html, text

    return send_prepared(claimed, render, now=now)


def clients_due(now: dt.datetime) -> list[tuple[Client, str]]:
    """Clients whose report of last week is due and not yet sent (or stored)."""
    done = {
        (client_id, period)
        for client_id, period in ReportDelivery.objects.filter(
            kind=ReportDelivery.Kind.WEEKLY,
            status__in=[
                ReportDelivery.Status.SENT,
                ReportDelivery.Status.STORED,
                ReportDelivery.Status.SKIPPED,
                ReportDelivery.Status.FAILED,
            ],
        ).values_list("client_id", "period")
    }
    due = []
    for client in Client.objects.filter(weekly_reports_enabled=True).exclude(report_recipients=""):
        week = due_week(client, now)
        if (client.pk, week) not in done:
            due.append((client, week))
    return due


# --- Reply notifications ---------------------------------------------------------------------------

DIGEST_MAX_WAIT = dt.timedelta(minutes=10)
DIGEST_LOOKBACK = dt.timedelta(days=1)
DIGEST_MAX_MESSAGES = 50


def pending_replies(client: Client, now: dt.datetime):
    """Replies not yet notified: after the last digest's message, within the last day."""
    from inbox.models import Message

    last = (
        ReportDelivery.objects.filter(client=client, kind=ReportDelivery.Kind.REPLY_DIGEST)
        .order_by("-created_at")
        .values_list("period", flat=True)
        .first()
    )
    cursor = int(last) if last and last.isdigit() else 0
    return (
        Message.objects.filter(
            conversation__client=client,
            direction=Message.Direction.INBOUND,
            id__gt=cursor,
            created_at__gte=now - DIGEST_LOOKBACK,
        )
        .select_related("conversation__lead__campaign", "conversation__account")
        .order_by("id")
    )


def deliver_reply_digest(client: Client, *, now: dt.datetime | None = None) -> ReportDelivery | None:
    """One email for the replies that arrived together: sent once the newest is a few minutes old (more may
    follow) or the oldest has waited DIGEST_MAX_WAIT. None when there is nothing to send yet."""
    now = now or timezone.now()
    messages = list(pending_replies(client, now)[: DIGEST_MAX_MESSAGES + 1])
    if not messages:
        return None
    quiet = dt.timedelta(seconds=settings.REPLY_DIGEST_QUIET_SECONDS)
    if messages[-1].created_at > now - quiet and messages[0].created_at > now - DIGEST_MAX_WAIT:
        return None
    shown = messages[:DIGEST_MAX_MESSAGES]
    delivery = _delivery(client, ReportDelivery.Kind.REPLY_DIGEST, str(shown[-1].pk))
    claimed = _claim(delivery.pk, now)
    if claimed is None:
        return None
    if not claimed.recipients:
        claimed.recipients = recipients_for(client, client.notification_recipient_list)
        ReportDelivery.objects.filter(pk=claimed.pk).update(recipients=claimed.recipients)
    base = settings.PUBLIC_BASE_URL
    items = [
        {
            "person": m.conversation.person_name or "Someone",
            "campaign": m.conversation.lead.campaign.name if m.conversation.lead else "",
            "account": m.conversation.account.name,
            "text": m.text,
            "when": m.sent_at,
            "url": base + reverse("inbox:conversation", args=[m.conversation_id]),
        }
        for m in shown
    ]
    more = len(messages) > DIGEST_MAX_MESSAGES
    subject = (
        f"{client.name}: {items[0]['person']} replied"
        if len(items) == 1
        else f"{client.name}: {len(items)}{'+' if more else ''} new replies"
    )
    context = {
        "client": client,
        "items": items,
        "more": more,
        "inbox_url": base + reverse("inbox:list"),
        "brand": brand_for(client),
    }

    def render(recipient):
        return (
            subject,
            render_to_string("emails/reply_digest.html", context),
            render_to_string("emails/reply_digest.txt", context),
        )

    return send_prepared(claimed, render, now=now)
