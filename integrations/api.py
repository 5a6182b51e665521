"""/api/v1/linkedin-accounts and /api/v1/rate-usage."""

import datetime as dt

import django_filters
from django.db.models import Prefetch
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from outreach.api.clients import TimezoneField
from outreach.api.exceptions import ApiError
from outreach.api.filters import IdFilter
from outreach.api.permissions import MANAGE
from outreach.api.serializers import IdField, PkField, ReasonSerializer, StrictModelSerializer
from outreach.api.views import ApiViewMixin
from outreach.models import Client

from .connect import ConnectRefused, hosted_link_request
from .models import ActionKind, EventDelivery, LinkedInAccount, RateUsage, WebhookEndpoint
from .outbound import (
    EVENT_TYPES,
    UnsafeTarget,
    check_target,
    deliveries_replay,
    endpoint_create,
    endpoint_ping,
    endpoint_rotate_secret,
)
from .services import (
    AccountIdRefused,
    account_check_unipile_id,
    account_create,
    account_pause,
    account_resume,
    account_sync,
    rate_usage_reset,
)
from .unipile import UnipileError


class UsageSerializer(serializers.Serializer):
    used = serializers.IntegerField()
    limit = serializers.IntegerField(help_text="Today's effective cap (warm-up ramps it up for new accounts).")


class TodaySerializer(serializers.Serializer):
    day = serializers.DateField(help_text="The account's own calendar day.")
    invites = UsageSerializer()
    messages = UsageSerializer()
    inmails = UsageSerializer()
    visits = UsageSerializer()
    reads = UsageSerializer(help_text="People read for lead sourcing (searches, lists, posts).")
    invites_this_week = UsageSerializer(help_text="Invitations over the last 7 days against the weekly limit.")


class LinkedInAccountSerializer(StrictModelSerializer):
    id = PkField()
    client = IdField(queryset=Client.objects.none())
    timezone = TimezoneField(max_length=64, required=False, allow_null=True)
    today = serializers.SerializerMethodField()
    needs_reconnect = serializers.BooleanField(
        read_only=True, help_text="The owner must log in again: ask for a link with POST …/{id}/reconnect."
    )
    pause_source = serializers.ChoiceField(
        choices=LinkedInAccount.PauseSource.choices,
        allow_blank=True,
        read_only=True,
        help_text="Empty when not paused.",
    )

    class Meta:
        model = LinkedInAccount
        fields = [
            "id",
            "client",
            "name",
            "unipile_account_id",
            "provider_id",
            "kind",
            "status",
            "timezone",
            "paused",
            "paused_reason",
            "pause_source",
            "paused_until",
            "daily_invite_limit",
            "weekly_invite_limit",
            "daily_message_limit",
            "daily_visit_limit",
            "daily_inmail_limit",
            "daily_follow_limit",
            "daily_like_limit",
            "daily_endorse_limit",
            "daily_withdraw_limit",
            "daily_read_limit",
            "max_pending_invitations",
            "min_seconds_between_actions",
            "warmup_started_on",
            "is_premium",
            "needs_reconnect",
            "disconnected_since",
            "inmail_credits",
            "last_action_at",
            "created_at",
            "today",
        ]
        read_only_fields = [
            "provider_id",
            "status",
            "is_premium",
            "disconnected_since",
            "inmail_credits",
            "paused",
            "paused_reason",
            "pause_source",
            "paused_until",
            "last_action_at",
            "created_at",
        ]
        # The id is checked with Unipile (and against other clients) by validate_unipile_account_id, in the same
        # words as the admin; the database's unique constraint still holds it.
        extra_kwargs = {"unipile_account_id": {"validators": []}}

    def get_fields(self):
        fields = super().get_fields()
        view = self.context.get("view")
        if view is not None:
            fields["client"].queryset = view.scope(Client.objects.all(), MANAGE, field="pk")
        if self.instance is not None:
            fields["client"].read_only = True
            fields["unipile_account_id"].read_only = True
        return fields

    def validate_unipile_account_id(self, value):
        value = value.strip()
        if self.instance is None:
            try:
                self.context["remote"] = account_check_unipile_id(unipile_account_id=value)
            except AccountIdRefused as exc:
                raise serializers.ValidationError(str(exc)) from None
        return value

    @extend_schema_field(TodaySerializer)
    def get_today(self, obj: LinkedInAccount) -> dict:
        today = obj.today()
        recent = getattr(obj, "recent_usages", None)
        if recent is None:
            recent = list(obj.rate_usages.filter(day__gt=today - dt.timedelta(days=7), day__lte=today))
        usage = next((u for u in recent if u.day == today), None) or RateUsage(account=obj, day=today)
        week = sum(u.invites for u in recent if today - dt.timedelta(days=7) < u.day <= today)
        result = {"day": today, "invites_this_week": {"used": week, "limit": obj.weekly_invite_cap}}
        for kind, counter in RateUsage.COUNTER_FOR_KIND.items():
            result[counter] = {"used": getattr(usage, counter), "limit": obj.cap_of_day(ActionKind(kind), today)}
        return TodaySerializer(result).data


class PauseSerializer(ReasonSerializer):
    until = serializers.DateTimeField(required=False, allow_null=True, help_text="Resume by itself after this time.")

    def validate_until(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("Must be in the future.")
        return value


class ConnectSerializer(serializers.Serializer):
    client = IdField(queryset=Client.objects.none(), help_text="The client the new account will send for.")

    def __init__(self, *args, clients=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients


class HostedLinkSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="Unipile's page: open it, or send it to the account's owner.")
    expires_at = serializers.DateTimeField(help_text="It also ends at Unipile's daily restart, whichever is first.")
    link = serializers.CharField(help_text="Our id of the link (the admin's link page shows its state).")


class AccountFilter(django_filters.FilterSet):
    client = IdFilter(field_name="client_id")
    status = django_filters.ChoiceFilter(choices=LinkedInAccount.Status.choices)
    paused = django_filters.BooleanFilter()
    kind = django_filters.ChoiceFilter(choices=LinkedInAccount.Kind.choices)

    class Meta:
        model = LinkedInAccount
        fields = ["client", "status", "paused", "kind"]


@extend_schema_view(
    list=extend_schema(summary="Sender accounts with today's usage and limits"),
    retrieve=extend_schema(summary="A sender account"),
    create=extend_schema(summary="Add a sender account (client admins)"),
    partial_update=extend_schema(summary="Change an account's limits or timezone (client admins)"),
    update=extend_schema(summary="Replace an account's settings (client admins)"),
)
class LinkedInAccountViewSet(
    ApiViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = LinkedInAccountSerializer
    filterset_class = AccountFilter
    write_level = MANAGE
    ordering = ["-id"]
    ordering_fields = ["name", "created_at", "last_action_at", "id"]
    search_fields = ["name", "unipile_account_id", "provider_id"]

    def get_queryset(self):
        utc_today = timezone.now().date()
        recent = RateUsage.objects.filter(
            day__range=(utc_today - dt.timedelta(days=8), utc_today + dt.timedelta(days=1))
        )
        return self.scope(
            LinkedInAccount.objects.select_related("client").prefetch_related(
                Prefetch("rate_usages", queryset=recent, to_attr="recent_usages")
            )
        )

    def _answer(self, account):
        return Response(self.get_serializer(self.get_queryset().get(pk=account.pk)).data)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = account_create(
            client=data.pop("client"),
            unipile_account_id=data.pop("unipile_account_id"),
            name=data.pop("name"),
            remote=serializer.context.get("remote"),
            **data,
        )

    @staticmethod
    def _link(link):
        return Response(
            HostedLinkSerializer({"url": link.url, "expires_at": link.expires_at, "link": link.public_id}).data,
            status=201,
        )

    @extend_schema(
        summary="A hosted-auth link to connect a new account for a client (client admins)",
        request=ConnectSerializer,
        responses={201: HostedLinkSerializer, 503: OpenApiResponse(description="Unipile gave no link.")},
    )
    @action(detail=False, methods=["post"])
    def connect(self, request):
        form = ConnectSerializer(data=request.data, clients=self.scope(Client.objects.all(), MANAGE, field="pk"))
        form.is_valid(raise_exception=True)
        try:
            link = hosted_link_request(client=form.validated_data["client"], user=request.user)
        except ConnectRefused as exc:
            raise ApiError(503, "provider_unavailable", str(exc)) from None
        return self._link(link)

    @extend_schema(
        summary="A hosted-auth link for the account's owner to log in again (client admins)",
        request=None,
        responses={
            201: HostedLinkSerializer,
            409: OpenApiResponse(description="Refused."),
            503: OpenApiResponse(description="Unipile gave no link."),
        },
    )
    @action(detail=True, methods=["post"])
    def reconnect(self, request, pk=None):
        account = self.get_object()
        try:
            link = hosted_link_request(client=account.client, user=request.user, account=account)
        except ConnectRefused as exc:
            raise ApiError(503, "provider_unavailable", str(exc)) from None
        return self._link(link)

    @extend_schema(
        summary="Test the connection: read status, own id, kind and premium from Unipile (client admins)",
        request=None,
        responses={200: LinkedInAccountSerializer, 503: OpenApiResponse(description="Unipile did not answer.")},
    )
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        account = self.get_object()
        try:
            account_sync(accounts=[account])
        except (UnipileError, ValueError) as exc:
            raise ApiError(503, "provider_unavailable", f"Unipile did not answer: {exc}") from None
        return self._answer(account)

    @extend_schema(summary="Pause an account", request=PauseSerializer, responses=LinkedInAccountSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        account = self.get_object()
        form = PauseSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        account_pause(account=account, reason=form.validated_data["reason"], until=form.validated_data.get("until"))
        return self._answer(account)

    @extend_schema(summary="Resume a paused account", request=None, responses=LinkedInAccountSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        account = self.get_object()
        account_resume(account=account)
        return self._answer(account)


class RateUsageSerializer(serializers.ModelSerializer):
    id = PkField()
    account = IdField(read_only=True)

    class Meta:
        model = RateUsage
        fields = ["id", "account", "day", "invites", "messages", "inmails", "visits", "updated_at"]


class RateUsageFilter(django_filters.FilterSet):
    account = IdFilter(field_name="account_id")
    client = IdFilter(field_name="account__client_id")
    day_from = django_filters.DateFilter(field_name="day", lookup_expr="gte")
    day_to = django_filters.DateFilter(field_name="day", lookup_expr="lte")

    class Meta:
        model = RateUsage
        fields = ["account", "client", "day_from", "day_to"]


@extend_schema_view(
    list=extend_schema(summary="Actions counted per account and day"),
    retrieve=extend_schema(summary="One account's counters for one day"),
)
class RateUsageViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = RateUsageSerializer
    filterset_class = RateUsageFilter
    client_field = "account__client_id"
    levels = {"reset": MANAGE}
    ordering = ["-id"]
    ordering_fields = ["day", "id"]
    search_fields = None

    def get_queryset(self):
        return self.scope(RateUsage.objects.select_related("account"))

    @extend_schema(
        summary="Set a day's counters back to zero (client admins)",
        request=ReasonSerializer,
        responses={200: RateUsageSerializer, 409: OpenApiResponse(description="Refused.")},
    )
    @action(detail=True, methods=["post"])
    def reset(self, request, pk=None):
        usage = self.get_object()
        form = ReasonSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        rate_usage_reset(
            usages=RateUsage.objects.filter(pk=usage.pk), reason=form.validated_data["reason"], user=request.user
        )
        usage.refresh_from_db()
        return Response(self.get_serializer(usage).data)


class WebhookEndpointSerializer(StrictModelSerializer):
    id = PkField()
    client = IdField(queryset=Client.objects.none())
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=[name for name in EVENT_TYPES if name != "ping"]),
        required=False,
        help_text="Event types to receive; empty: every event.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id", "client", "url", "description", "events", "enabled", "consecutive_failures", "disabled_reason",
            "created_at",
        ]  # fmt: skip
        read_only_fields = ["consecutive_failures", "disabled_reason", "created_at"]

    def get_fields(self):
        fields = super().get_fields()
        view = self.context.get("view")
        if view is not None:
            fields["client"].queryset = view.scope(Client.objects.all(), MANAGE, field="pk")
        if self.instance is not None:
            fields["client"].read_only = True
        return fields

    def validate_url(self, value):
        try:
            check_target(value)
        except UnsafeTarget as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="Shown once: sign-verification secret (whsec_…).")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class PingSerializer(serializers.Serializer):
    delivered = serializers.BooleanField()
    status_code = serializers.IntegerField(allow_null=True)
    latency_ms = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()


class ReplaySerializer(serializers.Serializer):
    since = serializers.DateTimeField(help_text="Replay the deliveries of events created from this time…")
    until = serializers.DateTimeField(help_text="…until this time.")

    def validate(self, attrs):
        if attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"since": ["Must not be after until."]})
        return attrs


class ReplayedSerializer(serializers.Serializer):
    replayed = serializers.IntegerField()


@extend_schema_view(
    list=extend_schema(summary="Webhook endpoints (the events a client's systems receive)"),
    retrieve=extend_schema(summary="A webhook endpoint"),
    create=extend_schema(
        summary="Subscribe an endpoint (client admins); the answer carries its secret, once",
        responses={201: WebhookEndpointCreatedSerializer},
    ),
    partial_update=extend_schema(summary="Change an endpoint (client admins)"),
    update=extend_schema(summary="Replace an endpoint's settings (client admins)"),
    destroy=extend_schema(summary="Remove an endpoint and its delivery log (client admins)"),
)
class WebhookEndpointViewSet(ApiViewMixin, viewsets.ModelViewSet):
    serializer_class = WebhookEndpointSerializer
    write_level = MANAGE
    levels = {"list": MANAGE, "retrieve": MANAGE}
    ordering = ["-id"]
    ordering_fields = ["created_at", "id"]
    search_fields = ["url", "description"]

    def get_queryset(self):
        return self.scope(WebhookEndpoint.objects.select_related("client"), MANAGE)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        endpoint = endpoint_create(
            client=data["client"], url=data["url"], events=data.get("events", []),
            description=data.get("description", ""), enabled=data.get("enabled", True),
        )  # fmt: skip
        return Response(
            WebhookEndpointCreatedSerializer(endpoint, context=self.get_serializer_context()).data, status=201
        )

    @extend_schema(
        summary="A new signing secret; the old one stays valid for 24 hours",
        request=None,
        responses=WebhookEndpointCreatedSerializer,
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        endpoint = endpoint_rotate_secret(endpoint=self.get_object())
        return Response(WebhookEndpointCreatedSerializer(endpoint, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Send a ping event now and say what the receiver answered", request=None, responses=PingSerializer
    )
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        delivery = endpoint_ping(endpoint=self.get_object())
        return Response(
            PingSerializer(
                {
                    "delivered": delivery.status == EventDelivery.Status.DELIVERED,
                    "status_code": delivery.last_status_code,
                    "latency_ms": delivery.last_latency_ms,
                    "error": delivery.last_error,
                }
            ).data
        )

    @extend_schema(
        summary="Send again the deliveries of the events of a time range", request=ReplaySerializer,
        responses=ReplayedSerializer,
    )  # fmt: skip
    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None):
        endpoint = self.get_object()
        form = ReplaySerializer(data=request.data)
        form.is_valid(raise_exception=True)
        count = deliveries_replay(
            deliveries=endpoint.deliveries.filter(
                event__created_at__gte=form.validated_data["since"], event__created_at__lte=form.validated_data["until"]
            )
        )
        return Response({"replayed": count})
