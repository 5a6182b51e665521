"""/api/v1/reports: summaries and series over a date range (whole days in the client's timezone)."""

import datetime as dt

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.models import Campaign
from integrations.models import LinkedInAccount
from outreach.api.exceptions import ApiError
from outreach.api.permissions import ClientRole, client_ids
from outreach.api.throttling import ApiRateThrottle
from outreach.models import Client

from . import selectors
from .health import account_health
from .selectors import Period

MAX_DAYS = 366
RANGE = [
    OpenApiParameter("from", dt.date, description="First day (YYYY-MM-DD, client's timezone). Default: 30 days ago."),
    OpenApiParameter("to", dt.date, description="Last day, included. Default: today."),
]


class DurationStatsSerializer(serializers.Serializer):
    median_hours = serializers.FloatField(allow_null=True)
    p90_hours = serializers.FloatField(allow_null=True)
    leads = serializers.IntegerField()


class FunnelStageSerializer(serializers.Serializer):
    stage = serializers.CharField()
    leads = serializers.IntegerField()


class SummarySerializer(serializers.Serializer):
    invitations_sent = serializers.IntegerField()
    invited = serializers.IntegerField()
    accepted = serializers.IntegerField()
    acceptance_rate = serializers.FloatField(allow_null=True)
    messages_sent = serializers.IntegerField()
    messaged = serializers.IntegerField()
    replies = serializers.IntegerField()
    replied = serializers.IntegerField()
    reply_rate_invited = serializers.FloatField(allow_null=True)
    reply_rate_connected = serializers.FloatField(allow_null=True)
    funnel = FunnelStageSerializer(many=True)
    time_to_acceptance = DurationStatsSerializer()
    time_to_reply = DurationStatsSerializer()


class StepRowSerializer(serializers.Serializer):
    campaign = serializers.IntegerField(allow_null=True)
    step = serializers.IntegerField(allow_null=True, help_text="The step's number in its campaign.")
    step_id = serializers.IntegerField(allow_null=True, help_text="The step (null: no longer in the sequence).")
    label = serializers.CharField(help_text="The step's number and label, as reports and emails name it.")
    variant = serializers.CharField(allow_blank=True)
    sent = serializers.IntegerField()
    leads = serializers.IntegerField()
    replies = serializers.IntegerField()
    replied = serializers.IntegerField()
    reply_rate = serializers.FloatField(allow_null=True)


class CampaignSummarySerializer(serializers.Serializer):
    campaign = serializers.CharField()
    name = serializers.CharField()
    timezone = serializers.CharField()
    first_day = serializers.DateField(source="from")
    last_day = serializers.DateField(source="to")
    summary = SummarySerializer()
    steps = StepRowSerializer(many=True)


class DayRowSerializer(serializers.Serializer):
    day = serializers.DateField()
    invites = serializers.IntegerField()
    accepted = serializers.IntegerField()
    messages = serializers.IntegerField()
    replies = serializers.IntegerField()


class TimeseriesSerializer(serializers.Serializer):
    campaign = serializers.CharField()
    timezone = serializers.CharField()
    days = DayRowSerializer(many=True)


class UsageDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    invites = serializers.ListField(child=serializers.IntegerField(), help_text="[used, daily limit]")
    messages = serializers.ListField(child=serializers.IntegerField())
    inmails = serializers.ListField(child=serializers.IntegerField())
    visits = serializers.ListField(child=serializers.IntegerField())


class AccountUsageSerializer(serializers.Serializer):
    account = serializers.CharField()
    name = serializers.CharField()
    days = UsageDaySerializer(many=True)


class CampaignRowSerializer(serializers.Serializer):
    campaign = serializers.CharField()
    name = serializers.CharField()
    summary = SummarySerializer()


class ClientSummarySerializer(serializers.Serializer):
    client = serializers.CharField()
    timezone = serializers.CharField()
    summary = SummarySerializer()
    campaigns = CampaignRowSerializer(many=True)


def _day(request, name: str) -> dt.date | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ApiError(
            400, "validation_error", f"{name}: Use a date like 2026-11-16.", {name: ["Invalid date."]}
        ) from None


def period_of(request, zone) -> Period:
    default = selectors.last_days(zone, 30)
    first, last = _day(request, "from") or default.first, _day(request, "to") or default.last
    if first > last:
        raise ApiError(400, "validation_error", "from: Must not be after to.", {"from": ["After to."]})
    if (last - first).days >= MAX_DAYS:
        raise ApiError(
            400, "validation_error", f"At most {MAX_DAYS} days at once.", {"to": [f"At most {MAX_DAYS} days."]}
        )
    return Period(first, last, default.zone)


class ReportView(APIView):
    permission_classes = [ClientRole]
    throttle_classes = [ApiRateThrottle]

    def scoped(self, model, field: str):
        queryset = model.objects.all()
        if not self.request.user.is_superuser:
            queryset = queryset.filter(**{f"{field}__in": client_ids(self.request)})
        return queryset

    def get_object(self, model, field, pk):
        if not str(pk).isdigit() or not 0 < int(pk) < 2**63:
            raise ApiError(404, "not_found", "Not found.")
        return get_object_or_404(self.scoped(model, field), pk=int(pk))


class CampaignSummaryView(ReportView):
    @extend_schema(
        summary="A campaign's figures over a date range", parameters=RANGE, responses=CampaignSummarySerializer
    )
    def get(self, request, pk):
        campaign = self.get_object(Campaign, "client_id", pk)
        period = period_of(request, campaign.client.timezone)
        scope = selectors.campaign_scope(campaign)
        return Response(
            {
                "campaign": str(campaign.pk),
                "name": campaign.name,
                "timezone": str(campaign.client.timezone),
                "from": period.first,
                "to": period.last,
                "summary": selectors.summary(scope, period).as_dict(),
                "steps": selectors.step_variants(scope, period),
            }
        )


class CampaignTimeseriesView(ReportView):
    @extend_schema(summary="A campaign's figures per day", parameters=RANGE, responses=TimeseriesSerializer)
    def get(self, request, pk):
        campaign = self.get_object(Campaign, "client_id", pk)
        period = period_of(request, campaign.client.timezone)
        days = selectors.daily_series(selectors.campaign_scope(campaign), period)
        return Response({"campaign": str(campaign.pk), "timezone": str(campaign.client.timezone), "days": days})


class AccountUsageView(ReportView):
    @extend_schema(
        summary="An account's actions per day against its daily limits",
        parameters=RANGE,
        responses=AccountUsageSerializer,
    )
    def get(self, request, pk):
        account = self.get_object(LinkedInAccount, "client_id", pk)
        period = period_of(request, account.calendar_tz)
        rows = selectors.account_usage(LinkedInAccount.objects.filter(pk=account.pk), period)
        days = [
            {"day": r["day"], **{k: list(r[k]) for k in ("invites", "messages", "inmails", "visits")}} for r in rows
        ]
        return Response({"account": str(account.pk), "name": account.name, "days": days})


class ClientSummaryView(ReportView):
    @extend_schema(
        summary="A client's figures, in all and per campaign", parameters=RANGE, responses=ClientSummarySerializer
    )
    def get(self, request, pk):
        client = self.get_object(Client, "pk", pk)
        period = period_of(request, client.timezone)
        scope = selectors.client_scope(client)
        by_campaign = selectors.summaries_by_campaign(scope, period)
        names = dict(Campaign.objects.filter(pk__in=list(by_campaign)).values_list("pk", "name"))
        return Response(
            {
                "client": str(client.pk),
                "timezone": str(client.timezone),
                "summary": selectors.summary(scope, period).as_dict(),
                "campaigns": [
                    {"campaign": str(pk), "name": names.get(pk, ""), "summary": s.as_dict()}
                    for pk, s in by_campaign.items()
                    if pk is not None
                ],
            }
        )


class KindUsageSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    used_today = serializers.IntegerField()
    cap_today = serializers.IntegerField(help_text="Today's cap: the limit, ramped up during the warm-up.")
    limit = serializers.IntegerField()
    left_today = serializers.IntegerField()
    used_week = serializers.IntegerField(help_text="Over the last 7 days of the account's calendar.")


class StatusChangeSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    status = serializers.CharField()
    previous = serializers.CharField()
    source = serializers.CharField()
    detail = serializers.CharField()


class SendErrorSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    lead = serializers.IntegerField(allow_null=True)
    kind = serializers.CharField()
    detail = serializers.CharField()
    provider_type = serializers.CharField()


class HealthCampaignSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField()


class AccountHealthSerializer(serializers.Serializer):
    account_id = serializers.IntegerField()
    name = serializers.CharField()
    client = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    working = serializers.BooleanField()
    needs_reconnect = serializers.BooleanField()
    disconnected_since = serializers.DateTimeField(allow_null=True)
    kind = serializers.CharField()
    is_premium = serializers.BooleanField(allow_null=True)
    inmail_credits = serializers.IntegerField(allow_null=True)
    timezone = serializers.CharField()
    day = serializers.DateField()
    warmup_day = serializers.IntegerField(allow_null=True, help_text="1 on the warm-up's first day.")
    warming_up = serializers.BooleanField()
    usage = KindUsageSerializer(many=True)
    invites_week = serializers.IntegerField()
    invites_week_cap = serializers.IntegerField()
    pending_invitations = serializers.IntegerField()
    pending_cap = serializers.IntegerField()
    oldest_pending_at = serializers.DateTimeField(allow_null=True)
    invited_30d = serializers.IntegerField()
    accepted_30d = serializers.IntegerField()
    acceptance_rate_30d = serializers.FloatField(allow_null=True)
    blockers = serializers.ListField(child=serializers.CharField(), help_text="Why it is not sending all it could.")
    paused = serializers.BooleanField()
    paused_reason = serializers.CharField()
    pause_source = serializers.CharField()
    paused_until = serializers.DateTimeField(allow_null=True)
    cooldown_until = serializers.DateTimeField(allow_null=True)
    history = StatusChangeSerializer(many=True)
    errors = SendErrorSerializer(many=True)
    campaigns = HealthCampaignSerializer(many=True)


class AccountHealthView(ReportView):
    @extend_schema(
        summary="An account's health: status history, caps, pending invitations, acceptance, errors",
        responses=AccountHealthSerializer,
    )
    def get(self, request, pk):
        account = self.get_object(LinkedInAccount, "client_id", pk)
        return Response(AccountHealthSerializer(account_health(account).as_dict()).data)
