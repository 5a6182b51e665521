"""/api/v1/campaigns/{id}/sources and /api/v1/lead-sources: leads from LinkedIn searches, lists and posts."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from integrations.models import LinkedInAccount
from outreach.api.exceptions import ApiError
from outreach.api.permissions import WORK
from outreach.api.serializers import IdField, PkField
from outreach.api.views import ApiViewMixin

from .models import LeadSource
from .sources import (
    SourceRefused,
    lead_source_cancel,
    lead_source_create,
    lead_source_pause,
    lead_source_rerun,
    lead_source_resume,
)


class LeadSourceSerializer(serializers.ModelSerializer):
    id = PkField()
    campaign = IdField(read_only=True)
    account = IdField(read_only=True)
    skipped = serializers.DictField(child=serializers.IntegerField(), help_text="Skipped people by reason.")

    class Meta:
        model = LeadSource
        fields = [
            "id", "campaign", "account", "kind", "url", "max_leads", "first_degree", "working_hours_only", "status",
            "stop_reason", "pages_read", "found", "imported", "skipped", "next_run_at", "runs", "created_at",
            "finished_at",
        ]  # fmt: skip
        read_only_fields = fields


class LeadSourceCreateSerializer(serializers.Serializer):
    url = serializers.CharField(
        max_length=2000, help_text="A LinkedIn people search, Sales Navigator search or list, or post."
    )
    account = IdField(queryset=LinkedInAccount.objects.none(), help_text="The account that reads the results.")
    engagers = serializers.ChoiceField(choices=["reactions", "comments"], default="reactions", help_text="For a post.")
    max_leads = serializers.IntegerField(min_value=1, default=500)
    first_degree = serializers.ChoiceField(choices=LeadSource.FirstDegree.choices, default=LeadSource.FirstDegree.SKIP)
    working_hours_only = serializers.BooleanField(default=False)

    def __init__(self, *args, accounts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = accounts


def _refused(exc: SourceRefused):
    raise serializers.ValidationError({exc.field: [str(exc)]})


class CampaignSourcesMixin:
    """The sources of one campaign: added on CampaignViewSet (GET and POST /campaigns/{id}/sources)."""

    @extend_schema(
        methods=["get"], summary="The LinkedIn sources of a campaign", responses=LeadSourceSerializer(many=True)
    )
    @extend_schema(
        methods=["post"],
        summary="Add leads from LinkedIn: a search URL, a Sales Navigator search or list, or a post",
        request=LeadSourceCreateSerializer,
        responses={201: LeadSourceSerializer},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def sources(self, request, pk=None):
        campaign = self.get_object()  # reading needs a viewer, adding an agent (the view's levels)
        if request.method == "GET":
            return Response(LeadSourceSerializer(campaign.sources.order_by("-id")[:200], many=True).data)
        form = LeadSourceCreateSerializer(
            data=request.data, accounts=LinkedInAccount.objects.filter(client_id=campaign.client_id)
        )
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            source = lead_source_create(campaign=campaign, user=request.user, **data)
        except SourceRefused as exc:
            _refused(exc)
        return Response(LeadSourceSerializer(source).data, status=201)


@extend_schema_view(
    list=extend_schema(summary="LinkedIn lead sources"),
    retrieve=extend_schema(summary="A lead source and its progress"),
)
class LeadSourceViewSet(ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = LeadSourceSerializer
    client_field = "campaign__client_id"
    write_level = WORK
    ordering = ["-id"]
    ordering_fields = ["created_at", "id"]
    search_fields = ["url"]

    def get_queryset(self):
        return self.scope(LeadSource.objects.select_related("campaign", "account"))

    def _do(self, operation):
        source = self.get_object()
        try:
            operation(source=source)
        except SourceRefused as exc:
            raise ApiError(409, "invalid_state_transition", str(exc)) from None
        return Response(LeadSourceSerializer(source).data)

    @extend_schema(
        summary="Pause a source",
        request=None,
        responses={200: LeadSourceSerializer, 409: OpenApiResponse(description="Refused.")},
    )
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._do(lead_source_pause)

    @extend_schema(
        summary="Resume a paused source",
        request=None,
        responses={200: LeadSourceSerializer, 409: OpenApiResponse(description="Refused.")},
    )
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._do(lead_source_resume)

    @extend_schema(
        summary="Cancel a source (what was imported stays)",
        request=None,
        responses={200: LeadSourceSerializer, 409: OpenApiResponse(description="Refused.")},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._do(lead_source_cancel)

    @extend_schema(
        summary="Run a finished source again: only new people come in",
        request=None,
        responses={200: LeadSourceSerializer, 409: OpenApiResponse(description="Refused.")},
    )
    @action(detail=True, methods=["post"])
    def rerun(self, request, pk=None):
        return self._do(lead_source_rerun)
