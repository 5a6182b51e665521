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
    OptionalReasonSerializer,
    PkField,
    StrictModelSerializer,
    StrictSerializer,
)
from outreach.api.views import ApiViewMixin
from outreach.models import Client

from . import importing
from .dnc import InvalidDncValue, dnc_parse
from .models import DoNotContact, Event, EventType, Lead, LeadStatus
from .services import (
    DncAlreadyListed,
    LeadRefused,
    dnc_bulk_add,
    dnc_create,
    lead_create,
    lead_mark_replied,
    lead_move,
    lead_pause,
    lead_requeue,
    lead_resume,
)

Campaign = Lead._meta.get_field("campaign").related_model

# --- Leads -------------------------------------------------------------------------------------


class LeadSerializer(StrictModelSerializer):
    id = PkField()
    campaign = IdField(queryset=Campaign.objects.none())
    sender = IdField(read_only=True, allow_null=True, help_text="Null until the lead has a sender account.")
    # The profile link as stored; empty for a lead known only by its member id, so not a "uri" in the schema.
    linkedin_url = serializers.CharField(read_only=True)
    linkedin = serializers.CharField(
        write_only=True, max_length=500, help_text="Profile URL, public identifier or member id (ACo…)."
    )
    custom_fields = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)

    class Meta:
        model = Lead
        fields = [
            "id",
            "campaign",
            "linkedin",
            "first_name",
            "last_name",
            "company",
            "title",
            "email",
            "linkedin_url",
            "public_identifier",
            "provider_id",
            "custom_fields",
            "status",
            "current_step",
            "next_action_at",
            "sender",
            "invited_at",
            "connected_at",
            "replied_at",
            "last_error",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "linkedin_url",
            "public_identifier",
            "provider_id",
            "status",
            "current_step",
            "next_action_at",
            "invited_at",
            "connected_at",
            "replied_at",
            "last_error",
            "created_at",
            "updated_at",
        ]

    def get_fields(self):
        fields = super().get_fields()
        view = self.context.get("view")
        if view is not None:
            fields["campaign"].queryset = view.scope(Campaign.objects.all(), WORK, field="client_id")
        if self.instance is not None:
            fields["campaign"].read_only = True
            fields["linkedin"].read_only = True
        return fields

    def create(self, validated_data):
        campaign = validated_data.pop("campaign")
        record = {k: v for k, v in validated_data.items() if k in importing.TARGET_FIELDS}
        if validated_data.get("custom_fields"):
            record["custom_fields"] = validated_data["custom_fields"]
        try:
            return lead_create(campaign=campaign, record=record)
        except LeadRefused as exc:
            if exc.outcome == importing.Outcome.INVALID:
                raise serializers.ValidationError({"linkedin": [exc.reason]}) from None
            raise ApiError(409, "conflict", exc.reason, {"outcome": exc.outcome}) from None


class LeadFilter(django_filters.FilterSet):
    campaign = IdFilter(field_name="campaign_id")
    client = IdFilter(field_name="campaign__client_id")
    sender = IdFilter(field_name="sender_id")
    status = django_filters.MultipleChoiceFilter(choices=LeadStatus.choices)
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = UtcIsoDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    replied_after = UtcIsoDateTimeFilter(field_name="replied_at", lookup_expr="gte")

    class Meta:
        model = Lead
        fields = [
            "campaign",
            "client",
            "sender",
            "status",
            "created_after",
            "created_before",
            "updated_after",
            "replied_after",
        ]


class MoveSerializer(StrictSerializer):
    campaign = IdField(queryset=Campaign.objects.none(), help_text="Another campaign of the same client.")


@extend_schema_view(
    list=extend_schema(summary="Leads of your clients' campaigns"),
    retrieve=extend_schema(summary="A lead"),
    create=extend_schema(
        summary="Add one lead to a campaign",
        description="Checked as an import row: a duplicate, a do-not-contact match or a person active in "
        "another campaign of the client is a 409 naming why.",
    ),
    partial_update=extend_schema(summary="Change a lead's details (not its status: use the actions)"),
    update=extend_schema(summary="Replace a lead's details"),
    destroy=extend_schema(summary="Delete a lead and its history"),
)
class LeadViewSet(ApiViewMixin, viewsets.ModelViewSet):
    serializer_class = LeadSerializer
    filterset_class = LeadFilter
    client_field = "campaign__client_id"
    ordering = ["-id"]
    ordering_fields = ["id", "created_at", "updated_at", "next_action_at", "replied_at", "last_name"]
    search_fields = ["first_name", "last_name", "company", "public_identifier", "email"]

    def get_queryset(self):
        return self.scope(Lead.objects.select_related("campaign"))

    def _answer(self, lead):
        lead.refresh_from_db()
        return Response(self.get_serializer(lead).data)

    @extend_schema(summary="Pause a lead", request=OptionalReasonSerializer, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        lead = self.get_object()
        form = OptionalReasonSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        return self._answer(lead_pause(lead=lead, reason=form.validated_data.get("reason", ""), actor=request.user))

    @extend_schema(summary="Resume a paused or errored lead where it was", request=None, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._answer(lead_resume(lead=self.get_object(), actor=request.user))

    @extend_schema(summary="Clear a lead's error and make it due now", request=None, responses=LeadSerializer)
    @action(detail=True, methods=["post"])
    def requeue(self, request, pk=None):
        return self._answer(lead_requeue(lead=self.get_object(), actor=request.user))

    @extend_schema(
        summary="Record that the person replied (stops the sequence)", request=None, responses=LeadSerializer
    )
    @action(detail=True, methods=["post"], url_path="mark-replied")
    def mark_replied(self, request, pk=None):
        return self._answer(lead_mark_replied(lead=self.get_object(), actor=request.user))

    @extend_schema(
        summary="Start the lead over in another campaign of the client",
        request=MoveSerializer,
        responses=LeadSerializer,
    )
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        lead = self.get_object()
        form = MoveSerializer(data=request.data)
        form.fields["campaign"].queryset = self.scope(Campaign.objects.all(), WORK, field="client_id")
        form.is_valid(raise_exception=True)
        return self._answer(lead_move(lead=lead, campaign=form.validated_data["campaign"], actor=request.user))


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
        return queryset.filter(Q(client_id__in=ids) | Q(client__isnull=True))

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
