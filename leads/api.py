"""/api/v1/leads, /api/v1/do-not-contact and /api/v1/events."""

import django_filters
from django.db.models import Q
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from outreach.api.exceptions import ApiError
from outreach.api.filters import IdFilter, UtcIsoDateTimeFilter
from outreach.api.permissions import WORK, client_ids
from outreach.api.serializers import (
    IdField,
    PkField,
    StrictModelSerializer,
    StrictSerializer,
)
from outreach.api.views import ApiViewMixin
from outreach.models import Client

from .dnc import InvalidDncValue, dnc_parse
from .models import DoNotContact, Event, EventType
from .services import (
    DncAlreadyListed,
    dnc_bulk_add,
    dnc_create,
)

# --- Do not contact ----------------------------------------------------------------------------


class DoNotContactSerializer(StrictModelSerializer):
    id = PkField()
    client = IdField(
        queryset=Client.objects.none(),
        allow_null=True,
        required=False,
        help_text="Null: applies to every client (staff superusers only).",
    )
    value = serializers.CharField(
        max_length=254, help_text="An email, @domain, LinkedIn profile URL, public identifier or member id."
    )
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = DoNotContact
        fields = ["id", "client", "kind", "value", "reason", "created_by", "created_at"]
        read_only_fields = ["kind", "created_at"]
        validators = []

    def get_fields(self):
        fields = super().get_fields()
        view = self.context.get("view")
        if view is not None:
            fields["client"].queryset = view.scope(Client.objects.all(), WORK, field="pk")
        if self.instance is not None:
            fields["client"].read_only = True
            fields["value"].read_only = True
        return fields

    def validate(self, attrs):
        if self.instance is not None:
            return attrs
        request = self.context["request"]
        client = attrs.get("client")
        if client is None and not request.user.is_superuser:
            raise serializers.ValidationError({"client": ["Only staff superusers add entries for every client."]})
        try:
            dnc_parse(attrs["value"])
        except InvalidDncValue as exc:
            raise serializers.ValidationError({"value": [str(exc)]}) from None
        return attrs

    def create(self, validated_data):
        try:
            entry, _stopped = dnc_create(
                client=validated_data.get("client"),
                value=validated_data["value"],
                reason=validated_data.get("reason", ""),
                user=self.context["request"].user,
            )
        except DncAlreadyListed as exc:
            raise ApiError(409, "conflict", str(exc), {"value": [exc.entry.value]}) from None
        return entry


class DncBulkSerializer(StrictSerializer):
    client = IdField(queryset=Client.objects.none(), allow_null=True)
    values = serializers.ListField(child=serializers.CharField(max_length=254), min_length=1, max_length=10_000)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class DncBulkResultSerializer(serializers.Serializer):
    added = serializers.IntegerField(help_text="New entries; ones already on the list are kept as they were.")
    already_listed = serializers.IntegerField()
    leads_stopped = serializers.IntegerField()


class DncFilter(django_filters.FilterSet):
    client = IdFilter(field_name="client_id")
    kind = django_filters.ChoiceFilter(choices=DoNotContact.Kind.choices)
    is_global = django_filters.BooleanFilter(field_name="client", lookup_expr="isnull")

    class Meta:
        model = DoNotContact
        fields = ["client", "kind", "is_global"]


@extend_schema_view(
    list=extend_schema(summary="Do-not-contact entries of your clients and the global ones"),
    retrieve=extend_schema(summary="A do-not-contact entry"),
    create=extend_schema(summary="Add an entry; matching leads stop at once"),
    partial_update=extend_schema(summary="Change an entry's reason"),
    update=extend_schema(summary="Change an entry's reason"),
    destroy=extend_schema(summary="Remove an entry (stopped leads stay stopped)"),
)
class DoNotContactViewSet(ApiViewMixin, viewsets.ModelViewSet):
    serializer_class = DoNotContactSerializer
    filterset_class = DncFilter
    ordering = ["-id"]
    ordering_fields = ["id", "created_at", "value"]
    search_fields = ["value", "reason"]

    def get_queryset(self):
        queryset = DoNotContact.objects.select_related("created_by")
        if self.request.user.is_superuser:
            return queryset
        ids = client_ids(self.request)
        if self.request.user.is_staff:
            return queryset.filter(Q(client_id__in=ids) | Q(client__isnull=True))
        # The agency-wide list (every client's exclusions together) is the agency's: staff only.
        return queryset.filter(client_id__in=ids)

    def client_id_of(self, obj):
        return obj.client_id

    @extend_schema(
        summary="Add many entries at once (all or nothing)",
        request=DncBulkSerializer,
        responses={201: DncBulkResultSerializer},
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        form = DncBulkSerializer(data=request.data)
        form.fields["client"].queryset = self.scope(Client.objects.all(), WORK, field="pk")
        form.is_valid(raise_exception=True)
        client = form.validated_data["client"]
        if client is None and not request.user.is_superuser:
            raise ApiError(
                400,
                "validation_error",
                "client: Only staff superusers add entries for every client.",
                {"client": ["Only staff superusers add entries for every client."]},
            )
        entries, problems = [], {}
        for index, value in enumerate(form.validated_data["values"]):
            if not value.strip():
                continue
            try:
                entries.append(dnc_parse(value))
            except InvalidDncValue as exc:
                problems[str(index)] = [str(exc)]
        if problems:
            raise ApiError(
                400,
                "validation_error",
                f"{len(problems)} value(s) are not an email, domain or LinkedIn profile; nothing was added.",
                {"values": problems},
            )
        added, stopped = dnc_bulk_add(
            client=client, entries=entries, reason=form.validated_data["reason"], user=request.user
        )
        body = {"added": added, "already_listed": len(set(entries)) - added, "leads_stopped": stopped}
        return Response(body, status=status.HTTP_201_CREATED)


# --- Events ------------------------------------------------------------------------------------


class EventSerializer(serializers.ModelSerializer):
    id = PkField()
    lead = IdField(read_only=True)
    account = IdField(read_only=True)
    campaign = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = ["id", "type", "lead", "campaign", "account", "occurred_at", "data", "external_id"]

    def get_campaign(self, obj) -> str | None:
        return str(obj.lead.campaign_id) if obj.lead_id else None


class EventFilter(django_filters.FilterSet):
    lead = IdFilter(field_name="lead_id")
    campaign = IdFilter(field_name="lead__campaign_id")
    account = IdFilter(field_name="account_id")
    type = django_filters.MultipleChoiceFilter(choices=EventType.choices)
    occurred_after = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = UtcIsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt")

    class Meta:
        model = Event
        fields = ["lead", "campaign", "account", "type", "occurred_after", "occurred_before"]


@extend_schema_view(
    list=extend_schema(summary="The event log of your clients' leads"),
    retrieve=extend_schema(summary="An event"),
)
class EventViewSet(ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = EventSerializer
    filterset_class = EventFilter
    client_field = "lead__campaign__client_id"
    ordering = ["-id"]
    ordering_fields = ["id", "occurred_at"]
    search_fields = None

    def get_queryset(self):
        return self.scope(Event.objects.select_related("lead"))
