"""The client portal at /portal/: a member's home (each campaign's progress, every number a link to the leads
behind it) and the leads list those links open, with its CSV. Members see their own clients only; viewers read.

The reports (/reports/, with preset ranges) and the inbox (agents and admins) are a click away in the header."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from campaigns.models import Campaign
from leads.models import EventType, Lead, LeadStatus
from leads.selectors import EXPORT_HEADER, lead_export_rows
from outreach.csvutils import streaming_csv_response
from outreach.tenancy import clients_for

PAGE_SIZE = 50
# What the home's columns count, and the lead filter each number opens.
COLUMNS = [
    ("leads", "Leads", None),
    ("pending", "Not started", [LeadStatus.PENDING]),
    ("in_progress", "In progress", [LeadStatus.INVITED, LeadStatus.CONNECTED, LeadStatus.MESSAGED]),
    ("connected", "Accepted", None),
    ("replied", "Replied", [LeadStatus.REPLIED]),
    ("finished", "Finished", [LeadStatus.COMPLETED, LeadStatus.WITHDRAWN]),
    ("stopped", "Stopped", [LeadStatus.ERROR, LeadStatus.PAUSED, LeadStatus.OPTED_OUT, LeadStatus.DO_NOT_CONTACT]),
]
STATUS_GROUPS = {key: statuses for key, _, statuses in COLUMNS if statuses}


def _week_start(zone) -> dt.datetime:
    today = timezone.localtime(timezone.now(), zone).date()
    monday = today - dt.timedelta(days=today.weekday())
    return dt.datetime.combine(monday, dt.time.min, tzinfo=zone)


def _rate(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "—"


def campaign_progress(client) -> list[dict]:
    """Each campaign of the client (archived ones left out): leads by state, acceptances, replies this week and
    the rates. Two grouped queries, whatever the number of leads."""
    campaigns = list(client.campaigns.exclude(status=Campaign.Status.ARCHIVED).order_by("-created_at"))
    counts = {
        row["campaign_id"]: row
        for row in Lead.objects.filter(campaign__in=campaigns)
        .values("campaign_id")
        .annotate(
            leads=Count("id"),
            invited=Count("id", filter=Q(invited_at__isnull=False)),
            connected=Count("id", filter=Q(connected_at__isnull=False)),
            **{key: Count("id", filter=Q(status__in=statuses)) for key, statuses in STATUS_GROUPS.items()},
        )
        .order_by()
    }
    zone = ZoneInfo(str(client.timezone))
    since = _week_start(zone)
    replies_this_week = dict(
        Lead.objects.filter(campaign__in=campaigns, replied_at__gte=since)
        .values_list("campaign_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    rows = []
    for campaign in campaigns:
        row = counts.get(campaign.pk, {})
        invited = row.get("invited", 0)
        rows.append(
            {
                "campaign": campaign,
                "counts": [(key, label, row.get(key, 0)) for key, label, _ in COLUMNS],
                "replies_this_week": replies_this_week.get(campaign.pk, 0),
                "acceptance_rate": _rate(row.get("connected", 0), invited),
                "reply_rate": _rate(row.get("replied", 0), invited),
                "started": row.get("leads", 0) - row.get("pending", 0),
                "total": row.get("leads", 0),
            }
        )
    return rows


def _client_of(request):
    clients = list(clients_for(request.user).order_by("name"))
    chosen = request.GET.get("client", "")
    client = next((c for c in clients if str(c.pk) == chosen), clients[0] if clients else None)
    return clients, client


@login_required
@require_GET
def home(request):
    clients, client = _client_of(request)
    context = {"clients": clients, "client": client, "rows": campaign_progress(client) if client else []}
    if client is not None:
        context["week_start"] = _week_start(ZoneInfo(str(client.timezone))).date()  # the client's Monday
    return render(request, "reports/portal_home.html", context)


@login_required
@require_GET
def leads(request):
    """The leads behind a number of the home: by campaign, by state, replied this week; CSV with ?export=csv."""
    clients = list(clients_for(request.user))
    raw = request.GET.get("campaign", "")
    campaign_id = int(raw) if raw.isdigit() and 0 < int(raw) < 2**63 else 0
    campaign = Campaign.objects.filter(pk=campaign_id, client__in=clients).select_related("client").first()
    if campaign is None:
        raise Http404("No such campaign.")
    queryset = Lead.objects.filter(campaign=campaign).select_related("step").order_by("-id")
    state = request.GET.get("state", "leads")
    title = "All leads"
    if state in STATUS_GROUPS:
        queryset = queryset.filter(status__in=STATUS_GROUPS[state])
        title = dict((key, label) for key, label, _ in COLUMNS)[state]
    elif state == "connected":
        queryset, title = queryset.filter(connected_at__isnull=False), "Accepted"
    elif state == "replied_this_week":
        since = _week_start(ZoneInfo(str(campaign.client.timezone)))
        queryset, title = queryset.filter(replied_at__gte=since), "Replied this week"
    elif state != "leads":
        state = "leads"
    if request.GET.get("export") == "csv":
        return streaming_csv_response(
            f"{campaign.client.slug}-{campaign.pk}-{state}.csv", EXPORT_HEADER, lead_export_rows(queryset)
        )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/portal_leads.html",
        {"campaign": campaign, "state": state, "title": title, "page": page, "events": EventType},
    )
