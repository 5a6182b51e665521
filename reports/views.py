"""/reports/: per client and campaign, over a date range in the client's timezone; every table exports as CSV."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from campaigns.models import Campaign
from integrations.models import LinkedInAccount
from outreach.csvutils import streaming_csv_response
from outreach.models import Client
from outreach.tenancy import clients_for

from . import charts, emails, selectors
from .models import ReportOptOut
from .selectors import Period

MAX_DAYS = 366
EXPORTS = ("daily", "campaigns", "steps", "accounts", "funnel")


PRESETS = {"this_week": "This week", "last_week": "Last week", "30": "30 days", "90": "90 days"}


def _preset(name: str, zone) -> Period | None:
    today = timezone.localtime(timezone.now(), ZoneInfo(str(zone))).date()
    monday = today - dt.timedelta(days=today.weekday())
    if name == "this_week":
        return Period(monday, today, ZoneInfo(str(zone)))
    if name == "last_week":
        return Period(monday - dt.timedelta(days=7), monday - dt.timedelta(days=1), ZoneInfo(str(zone)))
    if name in ("30", "90"):
        return selectors.last_days(zone, int(name))
    return None


def _period(request, zone) -> tuple[Period, list[str]]:
    default = selectors.last_days(zone, 30)
    errors = []
    if preset := request.GET.get("preset"):
        chosen = _preset(preset, zone)
        if chosen is not None:
            return chosen, errors
        errors.append(f"{preset!r} is not a range (this_week, last_week, 30 or 90); showing the last 30 days.")
        return default, errors
    first = _date(request.GET.get("from")) if request.GET.get("from") else default.first
    last = _date(request.GET.get("to")) if request.GET.get("to") else default.last
    if first is None or last is None:
        errors.append("Dates are written YYYY-MM-DD; showing the last 30 days.")
        return default, errors
    if first > last:
        errors.append("The start date is after the end date; showing the last 30 days.")
        return default, errors
    if (last - first).days >= MAX_DAYS:
        errors.append(f"At most {MAX_DAYS} days at once; showing the last {MAX_DAYS} days up to the end date.")
        first = last - dt.timedelta(days=MAX_DAYS - 1)
    return Period(first, last, default.zone), errors


def _date(raw: str) -> dt.date | None:
    try:
        return parse_date(raw[:10])
    except ValueError:  # well formed, impossible (month 13)
        return None


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@login_required
@require_GET
def index(request):
    clients = list(clients_for(request.user).order_by("name"))
    if not clients:
        return render(request, "reports/index.html", {"clients": []})
    raw_client = request.GET.get("client", "")
    client = next((c for c in clients if str(c.pk) == raw_client), clients[0] if not raw_client else None)
    if client is None:
        raise Http404("No such client.")
    period, errors = _period(request, client.timezone)
    campaigns = list(Campaign.objects.filter(client=client).order_by("name"))
    raw_campaign = request.GET.get("campaign", "")
    campaign = next((c for c in campaigns if str(c.pk) == raw_campaign), None)
    if raw_campaign and campaign is None:
        raise Http404("No such campaign.")
    scope = selectors.campaign_scope(campaign) if campaign else [c.pk for c in campaigns]
    accounts = LinkedInAccount.objects.filter(client=client)

    export = request.GET.get("export")
    if export in EXPORTS:
        return _export(export, scope, period, client, campaigns, accounts)

    summary = selectors.summary(scope, period)
    daily = selectors.daily_series(scope, period)
    by_campaign = selectors.summaries_by_campaign([c.pk for c in campaigns], period)
    labels = [row["day"].strftime("%d %b") for row in daily]
    chart = charts.line_chart(
        labels,
        [
            charts.Series("Invitations", [row["invites"] for row in daily]),
            charts.Series("Accepted", [row["accepted"] for row in daily]),
            charts.Series("Messages", [row["messages"] for row in daily]),
            charts.Series("Replies", [row["replies"] for row in daily]),
        ],
        title="Per day",
    )
    funnel = charts.bar_rows(summary.funnel, title="Funnel (leads)")
    context = {
        "clients": clients,
        "client": client,
        "campaigns": campaigns,
        "campaign": campaign,
        "period": period,
        "errors": errors,
        "summary": summary,
        "rates": {
            "acceptance": _pct(summary.acceptance_rate),
            "reply_invited": _pct(summary.reply_rate_invited),
            "reply_connected": _pct(summary.reply_rate_connected),
        },
        "chart": mark_safe(chart),  # noqa: S308 - built by charts.py, every text escaped there
        "funnel": mark_safe(funnel),  # noqa: S308
        "campaign_rows": [(c, by_campaign.get(c.pk)) for c in campaigns if c.pk in by_campaign],
        "steps": selectors.step_variants(scope, period),
        "corrections": selectors.class_corrections(client, period, campaign),
        "presets": list(PRESETS.items()),
        "utilization": _with_results(
            selectors.account_utilization(accounts, period), selectors.account_results(accounts, period, scope)
        ),
        "has_data": any(v for name, v in summary.as_dict().items() if name in selectors.FUNNEL_SUMS),
        "base_qs": f"client={client.pk}&from={period.first}&to={period.last}"
        + (f"&campaign={campaign.pk}" if campaign else ""),
    }
    return render(request, "reports/index.html", context)


def _with_results(rows: list[dict], by_account: dict) -> list[dict]:
    """Each account's utilization with what its work brought: people invited, accepted and replied."""
    for row in rows:
        result = by_account.get(row["account"].pk) or selectors.Summary()
        row["invited"], row["accepted"], row["replied"] = result.invited, result.accepted, result.replied
    return rows


def _export(kind, scope, period, client, campaigns, accounts):
    name = f"{client.slug}-{kind}-{period.first}-{period.last}.csv"
    if kind == "daily":
        header = ["day", "invitations", "accepted", "messages", "replies"]
        rows = (
            [r["day"], r["invites"], r["accepted"], r["messages"], r["replies"]]
            for r in selectors.daily_series(scope, period)
        )
    elif kind == "funnel":
        header = ["stage", "leads"]
        rows = selectors.summary(scope, period).funnel
    elif kind == "campaigns":
        by_campaign = selectors.summaries_by_campaign([c.pk for c in campaigns], period)
        header = [
            "campaign",
            "invited",
            "accepted",
            "acceptance rate",
            "messages sent",
            "replied",
            "reply rate (invited)",
        ]
        rows = (
            [c.name, s.invited, s.accepted, s.acceptance_rate, s.messages_sent, s.replied, s.reply_rate_invited]
            for c in campaigns
            if (s := by_campaign.get(c.pk))
        )
    elif kind == "steps":
        header = ["campaign", "step", "label", "variant", "sent", "leads", "replies", "replied leads", "reply rate"]
        rows = (
            [
                r["campaign"],
                r["step"],
                r["label"],
                r["variant"],
                r["sent"],
                r["leads"],
                r["replies"],
                r["replied"],
                r["reply_rate"],
            ]
            for r in selectors.step_variants(scope, period)
        )
    else:
        header = ["account", "invites", "invite capacity", "messages", "message capacity", "utilization"]
        rows = (
            [
                r["account"].name,
                r["invites"],
                r["invite_capacity"],
                r["messages"],
                r["message_capacity"],
                r["utilization"],
            ]
            for r in selectors.account_utilization(accounts, period)
        )
    return streaming_csv_response(name, header, rows)


@csrf_exempt  # the signed token is the credential; mail clients POST here for one-click unsubscribe (RFC 8058)
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    try:
        client_id, email = emails.read_unsubscribe_token(token)
    except signing.BadSignature:
        return render(request, "reports/unsubscribe.html", {"invalid": True}, status=400)
    client = Client.objects.filter(pk=client_id).first()
    if client is None:
        return render(request, "reports/unsubscribe.html", {"invalid": True}, status=400)
    done = ReportOptOut.objects.filter(client=client, email=email).exists()
    if request.method == "POST" and not done:
        ReportOptOut.objects.get_or_create(
            client=client, email=email, defaults={"reason": ReportOptOut.Reason.UNSUBSCRIBED}
        )
        done = True
    return render(request, "reports/unsubscribe.html", {"client": client, "email": email, "done": done})
