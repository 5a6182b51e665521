"""/api/v1/campaigns: CRUD with nested steps, the life-cycle actions, preview, lead import and export."""

import csv
import secrets

import django_filters
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response

from integrations.models import LinkedInAccount
from leads import importing
from leads.models import Lead
from leads.selectors import EXPORT_HEADER, lead_export_rows
from outreach.api.clients import TimezoneField
from outreach.api.exceptions import ApiError
from outreach.api.filters import IdFilter, UtcIsoDateTimeFilter
from outreach.api.parsers import StrictJSONParser
from outreach.api.permissions import WORK
from outreach.api.serializers import ClockTimeField, IdField, PkField, StrictModelSerializer
from outreach.api.views import ApiViewMixin
from outreach.csvutils import streaming_csv_response
from outreach.models import Client

from .models import Campaign, Step
from .sequence import SequenceInvalid, linear_specs, sequence_problems
from .sequence_api import CampaignSequenceMixin
from .services import (
    StepInUse,
    campaign_activate,
    campaign_archive,
    campaign_create,
    campaign_duplicate,
    campaign_pause,
    campaign_preview,
    campaign_resume,
    campaign_update,
    step_problems,
)
from .source_api import CampaignSourcesMixin

MAX_STEPS = 20


class StepSerializer(StrictModelSerializer):
    id = PkField()

    class Meta:
        model = Step
        fields = [
            "id",
            "position",
            "label",
            "action",
            "delay_days",
            "delay_hours",
            "template",
            "template_b",
            "withdraw_after_days",
        ]
        extra_kwargs = {"position": {"min_value": 1, "max_value": MAX_STEPS}}
        validators = []  # positions are checked across the list by the campaign serializer

    def validate(self, attrs):
        step = Step(**{k: v for k, v in attrs.items()})
        step.template = step.template or ""
        step.template_b = step.template_b or ""
        if problems := step_problems(step):
            raise serializers.ValidationError(problems)
        return attrs


class CampaignSerializer(StrictModelSerializer):
    id = PkField()
    client = IdField(queryset=Client.objects.none())
    timezone = TimezoneField(max_length=64, required=False)
    work_start = ClockTimeField(required=False, help_text="Working hours from, HH:MM in the campaign's timezone.")
    work_end = ClockTimeField(required=False, help_text="Working hours until, HH:MM.")
    senders = IdField(many=True, queryset=LinkedInAccount.objects.none(), required=False)
    steps = StepSerializer(many=True, required=False)
    working_days = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        min_length=1,
        max_length=7,
        required=False,
        help_text="0 = Monday … 6 = Sunday.",
    )

    class Meta:
        model = Campaign
        fields = [
            "id",
            "client",
            "name",
            "kind",
            "status",
            "timezone",
            "work_start",
            "work_end",
            "working_days",
            "holiday_country",
            "holiday_subdivision",
            "senders",
            "one_conversation_per_person",
            "dry_run",
            "steps",
            "created_at",
            "activated_at",
        ]
        read_only_fields = ["status", "created_at", "activated_at"]

    def get_fields(self):
        fields = super().get_fields()
        view = self.context.get("view")
        if view is not None:
            fields["client"].queryset = view.scope(Client.objects.all(), WORK, field="pk")
            fields["senders"].child_relation.queryset = view.scope(LinkedInAccount.objects.all(), WORK)
        if self.instance is not None and not isinstance(self.instance, list):
            fields["client"].read_only = True
        return fields

    def validate_working_days(self, value):
        if len(set(value)) != len(value):
            raise serializers.ValidationError("Working days must be distinct.")
        return sorted(value)

    def validate_steps(self, value):
        positions = [step["position"] for step in value]
        if len(value) > MAX_STEPS:
            raise serializers.ValidationError(f"At most {MAX_STEPS} steps.")
        if len(set(positions)) != len(positions):
            raise serializers.ValidationError("Each step needs its own position.")
        return sorted(value, key=lambda step: step["position"])

    def validate(self, attrs):
        client = attrs.get("client") or getattr(self.instance, "client", None)
        for sender in attrs.get("senders", []):
            if sender.client_id != client.pk:
                raise serializers.ValidationError({"senders": [f"Account {sender.pk} belongs to another client."]})
        probe = Campaign(**{k: v for k, v in attrs.items() if k not in ("senders", "steps")})
        if self.instance is not None:
            probe = Campaign(
                **{
                    f.attname: attrs.get(f.name, getattr(self.instance, f.attname))
                    for f in Campaign._meta.concrete_fields
                    if f.name not in ("client",)
                },
                client_id=self.instance.client_id,
            )
        try:
            probe.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        kind = attrs.get("kind") or getattr(self.instance, "kind", Campaign.Kind.CONNECTOR)
        steps = attrs.get("steps")
        if kind == Campaign.Kind.MESSENGER and steps and any(s["action"] == Step.Action.INVITE for s in steps):
            raise serializers.ValidationError(
                {"steps": ["A messenger campaign writes to connections: no invitations."]}
            )
        # The same whole-sequence checks as the admin and PUT /sequence.
        if steps and (problems := sequence_problems(kind, linear_specs(steps))):
            raise serializers.ValidationError({"steps": SequenceInvalid(problems).messages()})
        return attrs

    def create(self, validated_data):
        return campaign_create(**validated_data)

    def update(self, instance, validated_data):
        try:
            return campaign_update(campaign=instance, **validated_data)
        except StepInUse as exc:
            raise ApiError(
                409, "conflict", str(exc), {"steps": [f"Position {p} is in use." for p in exc.positions]}
            ) from None


class CampaignFilter(django_filters.FilterSet):
    client = IdFilter(field_name="client_id")
    status = django_filters.MultipleChoiceFilter(choices=Campaign.Status.choices)
    kind = django_filters.ChoiceFilter(choices=Campaign.Kind.choices)
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Campaign
        fields = ["client", "status", "kind", "created_after", "created_before"]


REFUSED = OpenApiResponse(
    description="The campaign's status does not allow this, or activation found problems (`details.problems`).",
    examples=[
        OpenApiExample(
            "Activation refused",
            value={
                "code": "invalid_state_transition",
                "message": "Campaign Q4 founders cannot be activated: 1 problem(s).",
                "details": {"problems": ["No sender accounts: add at least one LinkedIn account."]},
            },
        )
    ],
)


class PreviewStepSerializer(serializers.Serializer):
    step = serializers.CharField(help_text="The step's id.")
    position = serializers.IntegerField()
    action = serializers.CharField()
    variant = serializers.CharField()
    text = serializers.CharField(allow_null=True, help_text="Null for steps that send no text.")
    problems = serializers.ListField(child=serializers.CharField())


class PreviewRowSerializer(serializers.Serializer):
    lead = serializers.CharField(help_text="The lead's id.")
    name = serializers.CharField()
    steps = PreviewStepSerializer(many=True)


class ImportLeadSerializer(serializers.Serializer):
    linkedin = serializers.CharField(help_text="Profile URL, public identifier or member id (ACo…).")
    first_name = serializers.CharField(required=False)
    last_name = serializers.CharField(required=False)
    company = serializers.CharField(required=False)
    title = serializers.CharField(required=False)
    email = serializers.CharField(required=False)
    custom_fields = serializers.DictField(child=serializers.CharField(), required=False)


class ImportRowSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="CSV: the file's line (header is 1). JSON: the item's position from 1.")
    outcome = serializers.ChoiceField(choices=importing.Outcome.choices)
    reason = serializers.CharField()
    identifier = serializers.CharField()
    name = serializers.CharField()


class ImportResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    total = serializers.IntegerField()
    created = serializers.IntegerField()
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="Rows per outcome.")
    rows = ImportRowSerializer(many=True)


class CsvBodyParser(BaseParser):
    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        return {"csv": stream.read()}


class JsonErrorsNegotiation(DefaultContentNegotiation):
    """The export streams CSV whatever the Accept header says; its errors are JSON like everywhere else."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


def _json_records(items: list) -> tuple[list[tuple[int, dict]], dict[int, str]]:
    """(line, record) pairs for well-shaped items, and line -> reason for the others."""
    allowed = set(importing.TARGET_FIELDS) | {"custom_fields"}
    records, invalid = [], {}
    for line, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            invalid[line] = "Each lead must be an object."
            continue
        unknown = sorted(str(key) for key in item if key not in allowed)
        if unknown:
            invalid[line] = f"Unknown field(s): {', '.join(unknown)[:200]}."
            continue
        custom = item.get("custom_fields", {})
        wrong = [k for k in importing.TARGET_FIELDS if k in item and not isinstance(item[k], str)]
        if wrong:
            invalid[line] = f"{wrong[0]} must be a string."
            continue
        if not isinstance(custom, dict) or not all(isinstance(v, str | int | float) for v in custom.values()):
            invalid[line] = "custom_fields must be an object of strings."
            continue
        record = {k: item[k].strip() for k in importing.TARGET_FIELDS if k in item}
        if custom:
            record["custom_fields"] = {str(k)[:100]: str(v) for k, v in custom.items()}
        records.append((line, record))
    return records, invalid


def _merged(campaign, records, invalid):
    """Classified rows and shape errors, in line order."""
    pending = sorted(invalid.items())
    for result in importing.classify(campaign, records):
        while pending and pending[0][0] < result.line:
            line, reason = pending.pop(0)
            yield importing.RowResult(line=line, outcome=importing.Outcome.INVALID, reason=reason)
        yield result
    for line, reason in pending:
        yield importing.RowResult(line=line, outcome=importing.Outcome.INVALID, reason=reason)


@extend_schema_view(
    list=extend_schema(summary="Campaigns of your clients"),
    retrieve=extend_schema(summary="A campaign with its steps"),
    create=extend_schema(summary="Create a draft campaign with its steps"),
    partial_update=extend_schema(
        summary="Change a campaign; `steps`, when given, replaces the steps with a linear sequence (each after the "
        "one before; branches: PUT /campaigns/{id}/sequence)"
    ),
    update=extend_schema(summary="Replace a campaign's settings"),
    destroy=extend_schema(summary="Delete a draft campaign (archive the others)"),
)
class CampaignViewSet(CampaignSequenceMixin, CampaignSourcesMixin, ApiViewMixin, viewsets.ModelViewSet):
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilter
    ordering = ["-id"]
    ordering_fields = ["name", "created_at", "activated_at", "id"]
    search_fields = ["name"]

    def get_queryset(self):
        return self.scope(Campaign.objects.select_related("client").prefetch_related("steps", "senders"))

    def perform_destroy(self, instance):
        if instance.status != Campaign.Status.DRAFT:
            raise ApiError(
                409,
                "invalid_state_transition",
                f"Campaign {instance} is {instance.get_status_display().lower()}: archive it instead of deleting.",
            )
        instance.delete()

    def _answer(self, campaign, code=status.HTTP_200_OK):
        return Response(self.get_serializer(self.get_queryset().get(pk=campaign.pk)).data, status=code)

    @extend_schema(
        summary="Activate a draft or paused campaign", request=None, responses={200: CampaignSerializer, 409: REFUSED}
    )
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        return self._answer(campaign_activate(campaign=self.get_object()))

    @extend_schema(summary="Pause an active campaign", request=None, responses={200: CampaignSerializer, 409: REFUSED})
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._answer(campaign_pause(campaign=self.get_object()))

    @extend_schema(summary="Resume a paused campaign", request=None, responses={200: CampaignSerializer, 409: REFUSED})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._answer(campaign_resume(campaign=self.get_object()))

    @extend_schema(
        summary="Archive a campaign (queued actions are cancelled)",
        request=None,
        responses={200: CampaignSerializer, 409: REFUSED},
    )
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        return self._answer(campaign_archive(campaign=self.get_object()))

    @extend_schema(
        summary="Copy a campaign as a new draft, without leads", request=None, responses={201: CampaignSerializer}
    )
    @action(detail=True, methods=["post"])
    def duplicate(self, request, pk=None):
        return self._answer(campaign_duplicate(campaign=self.get_object()), status.HTTP_201_CREATED)

    @extend_schema(
        summary="Render every step for a lead (or for the first 10 leads)",
        parameters=[OpenApiParameter("lead", str, description="A lead of this campaign; omitted: a sample.")],
        responses=PreviewRowSerializer(many=True),
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def preview(self, request, pk=None):
        campaign = self.get_object()
        leads = None
        if "lead" in request.query_params:
            raw = request.query_params["lead"]
            if not raw.isdigit() or not 0 < int(raw) < 2**63:
                raise ApiError(400, "validation_error", "lead: Must be a lead id.", {"lead": ["Must be a lead id."]})
            leads = list(campaign.leads.filter(pk=int(raw)))
            if not leads:
                raise ApiError(
                    400,
                    "validation_error",
                    f"lead: No lead {raw} in this campaign.",
                    {"lead": ["Not in this campaign."]},
                )
        rows = campaign_preview(campaign=campaign, leads=leads)
        data = [
            {
                "lead": str(row.lead.pk),
                "name": str(row.lead),
                "steps": [
                    {
                        "step": str(cell.step.pk),
                        "position": cell.step.position,
                        "action": cell.step.action,
                        "variant": cell.variant,
                        "text": cell.rendered.text if cell.rendered else None,
                        "problems": cell.rendered.problems if cell.rendered else [],
                    }
                    for cell in row.cells
                ],
            }
            for row in rows
        ]
        return Response(data)

    @extend_schema(
        summary="Import leads from CSV or a JSON array (at most 10,000)",
        description=(
            "Send `application/json` (an array of leads), `text/csv` (a file with a header row; columns are "
            "recognised by name) or `multipart/form-data` with the CSV in `file`. Every row gets an outcome exactly "
            "as in the admin preview. With `dry_run=true` nothing is stored. The import is all or nothing."
        ),
        parameters=[OpenApiParameter("dry_run", bool, description="Classify only; store nothing.")],
        request={
            "application/json": ImportLeadSerializer(many=True),
            "text/csv": OpenApiTypes.STR,
            "multipart/form-data": inline_serializer("CsvUpload", {"file": serializers.FileField()}),
        },
        responses={200: ImportResultSerializer, 201: ImportResultSerializer},
        examples=[
            OpenApiExample(
                "Two leads",
                value=[
                    {"linkedin": "https://www.linkedin.com/in/ada-lovelace/", "first_name": "Ada", "company": "AE"},
                    {"linkedin": "grace-hopper", "first_name": "Grace", "custom_fields": {"city": "Arlington"}},
                ],
                request_only=True,
            )
        ],
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="leads/import",
        parser_classes=[StrictJSONParser, CsvBodyParser, MultiPartParser],
    )
    def import_leads(self, request, pk=None):
        campaign = self.get_object()
        dry_run = self._flag(request, "dry_run")
        if campaign.status == Campaign.Status.ARCHIVED and not dry_run:
            raise ApiError(409, "invalid_state_transition", f"Campaign {campaign} is archived; leads cannot be added.")
        limit = settings.API_IMPORT_MAX_ROWS
        if isinstance(request.data, list):
            if len(request.data) > limit:
                raise ApiError(
                    400, "validation_error", f"At most {limit} leads per request.", {"leads": [f"At most {limit}."]}
                )
            records, invalid = _json_records(request.data)
            results = _merged(campaign, records, invalid)
        else:
            results = importing.classify(campaign, self._csv_records(request, limit))
        try:
            if dry_run:
                summary = importing.summarize(results, keep_rows=limit)
            else:
                summary = importing.import_records(campaign, results, keep_rows=limit)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ApiError(400, "validation_error", f"The CSV could not be read: {exc}", {"csv": [str(exc)]}) from None
        body = {
            "dry_run": dry_run,
            **summary.as_dict(),
            "rows": [
                {
                    "line": row.line,
                    "outcome": row.outcome,
                    "reason": row.reason,
                    "identifier": row.identifier,
                    "name": row.name,
                }
                for row in summary.rows
            ],
        }
        return Response(body, status=status.HTTP_200_OK if dry_run else status.HTTP_201_CREATED)

    def get_max_body_bytes(self):
        return settings.API_IMPORT_MAX_BYTES if self.action == "import_leads" else None

    @staticmethod
    def _flag(request, name: str) -> bool:
        raw = request.query_params.get(name, "false").lower()
        if raw not in ("true", "false", "1", "0"):
            raise ApiError(400, "validation_error", f"{name}: Use true or false.", {name: ["Use true or false."]})
        return raw in ("true", "1")

    def _csv_records(self, request, limit: int):
        if "csv" in request.data:
            raw = request.data["csv"]
        elif "file" in request.data:
            raw = request.data["file"].read()
        else:
            raise ApiError(
                400,
                "validation_error",
                "Send a JSON array of leads, a text/csv body, or a multipart form with the CSV in 'file'.",
                {"file": ["No leads in the request."]},
            )
        directory = settings.IMPORT_DIR
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"api-{secrets.token_urlsafe(12)}.csv"
        path.write_bytes(raw)
        try:
            try:
                source = importing.open_csv(path)
                mapping = importing.Mapping(fields=importing.guess_mapping(source.headers), custom=[])
            except importing.LeadImportError as exc:
                raise ApiError(400, "validation_error", str(exc), {"csv": [str(exc)]}) from None
            mapped = set(mapping.fields.values())
            mapping.custom = [h for h in source.headers if h and h not in mapped]
            records = list(importing.csv_records(source, mapping))
        except (UnicodeDecodeError, csv.Error) as exc:
            raise ApiError(400, "validation_error", f"The CSV could not be read: {exc}", {"csv": [str(exc)]}) from None
        finally:
            path.unlink(missing_ok=True)
        if len(records) > limit:
            raise ApiError(
                400, "validation_error", f"At most {limit} leads per request.", {"csv": [f"At most {limit} rows."]}
            )
        return records

    @extend_schema(
        summary="All leads of the campaign as CSV (streamed)",
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="leads/export",
        content_negotiation_class=JsonErrorsNegotiation,
        pagination_class=None,
        filter_backends=[],
    )
    def export_leads(self, request, pk=None):
        campaign = self.get_object()
        leads = Lead.objects.filter(campaign=campaign).order_by("id")
        return streaming_csv_response(
            f"leads-{campaign.pk}-{timezone.now():%Y%m%d-%H%M}.csv", EXPORT_HEADER, lead_export_rows(leads)
        )
