"""The leads API: with the campaigns, whose queue and scope it needs (code imports only leftwards)."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from leads import importing
from leads.models import Lead, LeadStatus
from leads.services import (
    LeadRefused,
    lead_create,
    lead_mark_replied,
    lead_move,
    lead_pause,
    lead_requeue,
    lead_resume,
)
from leads.timeline import lead_timeline
from outreach.api.exceptions import ApiError
from outreach.api.filters import IdFilter, UtcIsoDateTimeFilter
from outreach.api.permissions import WORK
from outreach.api.serializers import (
    IdField,
    OptionalReasonSerializer,
    PkField,
    StrictModelSerializer,
    StrictSerializer,
)
from outreach.api.views import ApiViewMixin

from .models import Campaign

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
    step = IdField(read_only=True, allow_null=True, help_text="The step the lead is at (GET /campaigns/{id}/sequence).")
    step_label = serializers.SerializerMethodField(help_text="That step's number and label.")

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
            "step",
            "step_label",
            "condition_until",
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
            "condition_until",
            "next_action_at",
            "invited_at",
            "connected_at",
            "replied_at",
            "last_error",
            "created_at",
            "updated_at",
        ]

    def get_step_label(self, obj) -> str:
        return f"{obj.step.position}. {obj.step.display_label}" if obj.step_id else ""

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


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="UTC.")
    local_time = serializers.CharField(help_text="The same moment in the campaign's timezone (ISO 8601, with offset).")
    kind = serializers.CharField(help_text="An event type, action_<status>, message_in or message_out.")
    title = serializers.CharField()
    detail = serializers.CharField(allow_blank=True)
    actor = serializers.CharField(allow_blank=True, help_text="Who did it, when a person did.")
    conversation = serializers.IntegerField(allow_null=True, help_text="The inbox conversation (/inbox/{id}/).")


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
        return self.scope(Lead.objects.select_related("campaign", "step"))

    def _answer(self, lead):
        lead.refresh_from_db()
        return Response(self.get_serializer(lead).data)

    @extend_schema(
        summary="A lead's timeline: events, actions, messages and status changes, newest first",
        responses=TimelineEntrySerializer(many=True),
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def timeline(self, request, pk=None):
        lead = self.get_object()
        zone = lead.campaign.timezone
        entries = lead_timeline(lead)
        return Response(
            TimelineEntrySerializer(
                [
                    {
                        "at": entry.at,
                        "local_time": entry.local(zone).isoformat(),
                        "kind": entry.kind,
                        "title": entry.title,
                        "detail": entry.detail,
                        "actor": entry.actor,
                        "conversation": entry.conversation_id,
                    }
                    for entry in entries
                ],
                many=True,
            ).data
        )

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
