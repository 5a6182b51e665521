"""/api/v1/inbox: conversations, their messages, replies through the send queue, the staff actions, counters."""

import django_filters
from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from outreach.api.exceptions import ApiError
from outreach.api.filters import IdFilter
from outreach.api.pagination import ApiCursorPagination
from outreach.api.permissions import ClientRole
from outreach.api.serializers import IdField, PkField, StrictSerializer
from outreach.api.throttling import ApiRateThrottle
from outreach.api.views import ApiViewMixin

from .models import Conversation, Message
from .selectors import InboxFilters, conversation_messages, filter_conversations, inbox_counters
from .services import (
    MAX_REPLY_LENGTH,
    NOT_ASSIGNABLE,
    InboxActionRefused,
    conversation_assign,
    conversation_close,
    conversation_mark_read,
    conversation_mark_unread,
    conversation_reopen,
    conversation_reply,
    conversation_snooze,
)


class ConversationSerializer(serializers.ModelSerializer):
    id = PkField()
    client = IdField(read_only=True)
    account = IdField(read_only=True)
    lead = IdField(read_only=True, allow_null=True)
    campaign = serializers.SerializerMethodField()
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Conversation
        fields = [
            "id",
            "client",
            "account",
            "chat_id",
            "lead",
            "campaign",
            "person_name",
            "person_provider_id",
            "status",
            "snoozed_until",
            "assignee",
            "unread_count",
            "last_message_at",
            "last_message_preview",
            "last_message_inbound",
            "created_at",
        ]

    def get_campaign(self, obj) -> str | None:
        return str(obj.lead.campaign_id) if obj.lead_id else None


class MessageSerializer(serializers.ModelSerializer):
    id = PkField()
    delivery = serializers.SerializerMethodField(
        help_text="received, queued, sending, sent, retrying, failed or cancelled."
    )
    delivery_error = serializers.SerializerMethodField()
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "direction",
            "text",
            "sender_name",
            "provider_message_id",
            "sent_at",
            "author",
            "delivery",
            "delivery_error",
        ]

    def get_delivery(self, obj) -> str:
        return obj.delivery[0]

    def get_delivery_error(self, obj) -> str:
        return obj.delivery[1]


class ReplySerializer(StrictSerializer):
    text = serializers.CharField(max_length=MAX_REPLY_LENGTH)
    send_now = serializers.BooleanField(
        default=False, help_text="Outside working hours too (still inside the account's caps)."
    )


class AssignSerializer(StrictSerializer):
    assignee = serializers.CharField(
        allow_null=True, help_text="A username, `me`, or null to unassign.", max_length=150
    )


class SnoozeSerializer(StrictSerializer):
    until = serializers.DateTimeField()


class CountersSerializer(serializers.Serializer):
    open = serializers.IntegerField(help_text="Open conversations with unread messages.")
    mine = serializers.IntegerField()
    unassigned = serializers.IntegerField()
    snoozed = serializers.IntegerField()
    closed = serializers.IntegerField()


class ConversationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=[*Conversation.Status.choices, ("all", "All")], method="noop")
    client = IdFilter(method="noop")
    account = IdFilter(method="noop")
    campaign = IdFilter(field_name="lead__campaign_id", method="noop")
    assignee = django_filters.CharFilter(method="noop", help_text="me, unassigned, anyone or a user id.")
    unread = django_filters.BooleanFilter(method="noop")
    q = django_filters.CharFilter(method="noop", max_length=200, help_text="Names and message text.")

    class Meta:
        model = Conversation
        fields = ["status", "client", "account", "campaign", "assignee", "unread", "q"]

    def noop(self, queryset, name, value):
        return queryset

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        assignee = data.get("assignee") or "anyone"
        if assignee not in ("anyone", "me", "unassigned") and not assignee.isdigit():
            raise ApiError(
                400,
                "validation_error",
                "assignee: Use me, unassigned, anyone or a user id.",
                {"assignee": ["Invalid."]},
            )
        filters = InboxFilters(
            status=data.get("status") or "open",
            client=data.get("client"),
            account=data.get("account"),
            campaign=data.get("campaign"),
            assignee=assignee,
            unread=bool(data.get("unread")),
            q=data.get("q") or "",
        )
        return filter_conversations(queryset, filters, self.request.user)


class MessageCursor(ApiCursorPagination):
    ordering = "id"


@extend_schema_view(
    list=extend_schema(summary="Conversations of your clients (open by default), unread first then newest"),
    retrieve=extend_schema(summary="A conversation"),
)
class ConversationViewSet(ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ConversationSerializer
    filterset_class = ConversationFilter
    # Newest first (cursor pagination needs a nearly unique first key); `?unread=true` gives the unread ones.
    ordering = ["-last_message_at", "-id"]
    ordering_fields = ["last_message_at", "id"]
    search_fields = None

    def get_queryset(self):
        return self.scope(Conversation.objects.select_related("lead", "assignee"))

    def filter_queryset(self, queryset):
        # The list's filters (open by default) must not hide a closed conversation from its own URL.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def _done(self, conversation):
        return Response(self.get_serializer(self.get_queryset().get(pk=conversation.pk)).data)

    def _run(self, service, **kwargs):
        try:
            return service(**kwargs)
        except InboxActionRefused as exc:
            raise ApiError(409, "invalid_state_transition", str(exc)) from None

    @extend_schema(
        summary="Messages of the conversation, oldest first",
        responses=MessageSerializer(many=True),
        parameters=[OpenApiParameter("limit", int), OpenApiParameter("cursor", str)],
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=MessageCursor, filter_backends=[])
    def messages(self, request, pk=None):
        conversation = self.get_object()
        page = self.paginate_queryset(conversation_messages(conversation))
        return self.get_paginated_response(MessageSerializer(page, many=True).data)

    @extend_schema(
        summary="Queue a reply on the conversation's sender account",
        description="Caps and working hours apply unless `send_now` (caps still apply). Send an Idempotency-Key "
        "so that a retried request queues one reply.",
        request=ReplySerializer,
        responses={201: MessageSerializer},
    )
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        conversation = self.get_object()
        form = ReplySerializer(data=request.data)
        form.is_valid(raise_exception=True)
        message, _created = self._run(
            conversation_reply,
            conversation=conversation,
            text=form.validated_data["text"],
            user=request.user,
            send_now=form.validated_data["send_now"],
        )
        return Response(MessageSerializer(Message.objects.get(pk=message.pk)).data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Mark read", request=None, responses=ConversationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        return self._done(conversation_mark_read(conversation=self.get_object()))

    @extend_schema(summary="Mark unread", request=None, responses=ConversationSerializer)
    @action(detail=True, methods=["post"])
    def unread(self, request, pk=None):
        return self._done(conversation_mark_unread(conversation=self.get_object()))

    @extend_schema(
        summary="Assign to a member of the client, or unassign",
        request=AssignSerializer,
        responses=ConversationSerializer,
    )
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        conversation = self.get_object()
        form = AssignSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        name = form.validated_data["assignee"]
        user = None
        if name == "me":
            user = request.user
        elif name:
            user = get_user_model().objects.filter(username=name, is_active=True).first()
            if user is None:
                raise ApiError(409, "invalid_state_transition", NOT_ASSIGNABLE)
        return self._done(self._run(conversation_assign, conversation=conversation, user=user))

    @extend_schema(summary="Snooze until a time", request=SnoozeSerializer, responses=ConversationSerializer)
    @action(detail=True, methods=["post"])
    def snooze(self, request, pk=None):
        conversation = self.get_object()
        form = SnoozeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        return self._done(self._run(conversation_snooze, conversation=conversation, until=form.validated_data["until"]))

    @extend_schema(summary="Close", request=None, responses=ConversationSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._done(self._run(conversation_close, conversation=self.get_object()))

    @extend_schema(summary="Reopen", request=None, responses=ConversationSerializer)
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._done(self._run(conversation_reopen, conversation=self.get_object()))


class CountersView(APIView):
    permission_classes = [ClientRole]
    throttle_classes = [ApiRateThrottle]

    @extend_schema(
        summary="Unread conversations per inbox view",
        parameters=[OpenApiParameter("client", str, description="Only this client.")],
        responses=CountersSerializer,
    )
    def get(self, request):
        raw = request.query_params.get("client")
        client = None
        if raw is not None:
            if not raw.isdigit() or not 0 < int(raw) < 2**63:
                raise ApiError(400, "validation_error", "client: Must be a client id.", {"client": ["Must be an id."]})
            client = int(raw)
        return Response(inbox_counters(request.user, client=client))
