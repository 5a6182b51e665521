"""The outbound webhook payloads, documented in the OpenAPI document (x-webhooks, as OpenAPI 3.0 has no webhooks
section; Redoc shows them). Version PAYLOAD_VERSION; ids are strings."""

from drf_spectacular.utils import OpenApiWebhook, extend_schema
from rest_framework import serializers

from .outbound import EVENT_TYPES, PAYLOAD_VERSION


class LeadOut(serializers.Serializer):
    id = serializers.CharField()
    campaign_id = serializers.CharField()
    status = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    company = serializers.CharField()
    title = serializers.CharField()
    email = serializers.CharField()
    linkedin_url = serializers.CharField()
    public_identifier = serializers.CharField()


class LeadData(serializers.Serializer):
    lead = LeadOut()


class LeadChangeData(LeadData):
    # "from" is a Python keyword: the field is declared under another name and renamed below.
    from_ = serializers.CharField(help_text="The status before.")
    to = serializers.CharField()
    reason = serializers.CharField()
    at = serializers.DateTimeField()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class ReplyOut(serializers.Serializer):
    text = serializers.CharField()
    sent_at = serializers.DateTimeField()
    chat_id = serializers.CharField()


class LeadRepliedData(LeadData):
    reply = ReplyOut()
    conversation_url = serializers.CharField(help_text="The conversation in the inbox.")


class ConversationOut(serializers.Serializer):
    id = serializers.CharField()
    lead_id = serializers.CharField(allow_null=True)
    url = serializers.CharField()
    chat_id = serializers.CharField(required=False)


class MessageOut(serializers.Serializer):
    id = serializers.CharField()
    text = serializers.CharField()
    sent_at = serializers.DateTimeField()
    sender_name = serializers.CharField()


class MessageData(serializers.Serializer):
    message = MessageOut()
    conversation = ConversationOut()


class AssigneeOut(serializers.Serializer):
    id = serializers.CharField()
    username = serializers.CharField()


class AssignedData(serializers.Serializer):
    conversation = ConversationOut()
    assignee = AssigneeOut(allow_null=True, help_text="null: unassigned.")


class CampaignOut(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()


class CampaignData(serializers.Serializer):
    campaign = CampaignOut()


class AccountOut(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    previous = serializers.CharField()


class AccountData(serializers.Serializer):
    account = AccountOut()


class PingData(serializers.Serializer):
    endpoint_id = serializers.CharField()
    message = serializers.CharField()


DATA_FOR_TYPE = {
    "lead.imported": LeadData,
    "lead.invited": LeadChangeData,
    "lead.connected": LeadChangeData,
    "lead.messaged": LeadChangeData,
    "lead.replied": LeadRepliedData,
    "lead.status_changed": LeadChangeData,
    "lead.opted_out": LeadChangeData,
    "conversation.assigned": AssignedData,
    "message.received": MessageData,
    "message.sent": MessageData,
    "campaign.activated": CampaignData,
    "campaign.paused": CampaignData,
    "campaign.completed": CampaignData,
    "account.disconnected": AccountData,
    "account.reconnected": AccountData,
    "ping": PingData,
}


def _envelope(event_type: str, data_serializer) -> type[serializers.Serializer]:
    name = "".join(part.title() for part in event_type.replace(".", "_").split("_")) + "Event"
    return type(
        name,
        (serializers.Serializer,),
        {
            "type": serializers.ChoiceField(choices=[event_type]),
            "id": serializers.CharField(help_text="Also the webhook-id header: receivers dedupe on it."),
            "version": serializers.ChoiceField(choices=[PAYLOAD_VERSION]),
            "created_at": serializers.DateTimeField(),
            "client_id": serializers.CharField(),
            "data": data_serializer(),
        },
    )


OUTBOUND_WEBHOOKS = [
    OpenApiWebhook(
        name=event_type,
        decorator=extend_schema(
            summary=EVENT_TYPES[event_type],
            description=(
                "Signed as Standard Webhooks say: `webhook-id`, `webhook-timestamp` and `webhook-signature` "
                "(`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, two signatures during a secret rotation). "
                "Answer 2xx; anything else is retried for about three days; 410 disables the endpoint."
            ),
            request=_envelope(event_type, data_serializer),
            responses={200: None},
        ),
    )
    for event_type, data_serializer in DATA_FOR_TYPE.items()
]


def webhooks_as_extension(result, generator, request, public):
    """OpenAPI 3.0 has no webhooks section: the same content goes under x-webhooks."""
    if "webhooks" in result and not str(result.get("openapi", "")).startswith("3.1"):
        result["x-webhooks"] = result.pop("webhooks")
    return result


# drf-spectacular reads WEBHOOKS as import strings, one per webhook: settings name these (a test keeps the count).
for _number, _webhook in enumerate(OUTBOUND_WEBHOOKS):
    globals()[f"WEBHOOK_{_number:02d}"] = _webhook
