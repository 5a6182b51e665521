"""Every message we learn about (webhook or polling) goes through ingest(): replies stop sequences,
hand-written messages pause them, and running it twice changes nothing."""

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns.models import OutboundAction
from integrations.models import LinkedInAccount
from integrations.unipile import ChatMessage, parse_timestamp
from integrations.webhooks import BadPayload
from leads.linkedin import InvalidLinkedInIdentifier, is_resolved_member_id, normalize_linkedin
from leads.models import ACTIVE_STATUSES, Event, EventType, Lead, LeadStatus
from leads.selectors import leads_of_person, pick_lead
from leads.services import lead_emit, lead_pause, lead_transition

from .services import ingest_into_inbox

logger = logging.getLogger("outreach.inbox")
OWN_MESSAGE_WINDOW = dt.timedelta(minutes=30)


@dataclass
class IncomingMessage:
    account: LinkedInAccount
    chat_id: str
    message_id: str
    text: str
    sent_at: dt.datetime
    inbound: bool
    person_provider_id: str  # the other side of the conversation
    person_public_identifier: str = ""
    person_name: str = ""


def _slug(url: str) -> str:
    try:
        return normalize_linkedin(url).public_identifier if url else ""
    except InvalidLinkedInIdentifier:
        return ""


def from_webhook(payload: dict) -> IncomingMessage | None:
    """None when the account is not ours; BadPayload when the shape is wrong."""
    account = (
        LinkedInAccount.objects.select_related("client")
        .filter(unipile_account_id=str(payload.get("account_id") or ""))
        .first()
    )
    if account is None:
        return None
    sender = payload.get("sender")
    if not isinstance(sender, dict) or not sender.get("attendee_provider_id"):
        raise BadPayload("message_received without sender.attendee_provider_id")
    info = payload.get("account_info") if isinstance(payload.get("account_info"), dict) else {}
    own_id = str(info.get("user_id") or account.provider_id or "")
    sender_id = str(sender["attendee_provider_id"])
    # Direction from who sent it, not from is_sender alone (a boolean here, 0/1 in REST, sometimes missing).
    inbound = sender_id != own_id if own_id else not payload.get("is_sender")
    person_id, person_slug, person_name = (
        sender_id,
        _slug(str(sender.get("attendee_profile_url") or "")),
        str(sender.get("attendee_name") or ""),
    )
    if not inbound:
        attendees = payload.get("attendees") if isinstance(payload.get("attendees"), list) else []
        other = next(
            (a for a in attendees if isinstance(a, dict) and a.get("attendee_provider_id") not in ("", own_id)), {}
        )
        person_id, person_slug, person_name = (
            str(other.get("attendee_provider_id") or ""),
            "",
            str(other.get("attendee_name") or ""),
        )
    chat_id, message_id = str(payload.get("chat_id") or ""), str(payload.get("message_id") or "")
    if not chat_id or not message_id:
        raise BadPayload("message_received needs chat_id and message_id")
    return IncomingMessage(
        account=account,
        chat_id=chat_id,
        message_id=message_id,
        text=str(payload.get("message") or ""),
        sent_at=parse_timestamp(payload.get("timestamp")) or timezone.now(),
        inbound=inbound,
        person_provider_id=person_id,
        person_public_identifier=person_slug,
        person_name=person_name,
    )


def from_polled(account: LinkedInAccount, message: ChatMessage, *, attendee_provider_id: str = "") -> IncomingMessage:
    inbound = not message.is_sender and message.sender_id != account.provider_id
    return IncomingMessage(
        account=account,
        chat_id=message.chat_id,
        message_id=message.id,
        text=message.text,
        sent_at=message.timestamp or timezone.now(),
        inbound=inbound,
        person_provider_id=message.sender_id if inbound else attendee_provider_id,
    )


def _lead_for(message: IncomingMessage) -> tuple[Lead | None, list[Lead]]:
    client_id = message.account.client_id
    people = list(
        leads_of_person(
            client_id=client_id,
            provider_id=message.person_provider_id,
            public_identifier=message.person_public_identifier,
        )
    )
    lead = pick_lead(people, account_id=message.account.pk, chat_id=message.chat_id)
    if lead is None and message.chat_id:
        lead = (
            Lead.objects.filter(campaign__client_id=client_id, chat_id=message.chat_id)
            .select_related("campaign")
            .first()
        )
    return lead, people


@dataclass(frozen=True)
class Ingested:
    """What ingesting one message did: `new_reply` when it was a lead's reply seen for the first time."""

    note: str
    new_reply: bool = False


def ingest(message: IncomingMessage, *, source: str) -> Ingested:
    with transaction.atomic():
        result = _reply(message, source) if message.inbound else Ingested(_outbound(message))
        lead, _people = _lead_for(message)
        stored = ingest_into_inbox(message, lead=lead)
        if result.new_reply and lead is not None:
            # Written with the reply, once the conversation exists: its link goes out with the text.
            conversation_url = f"{settings.PUBLIC_BASE_URL}/inbox/{stored.conversation_id}/" if stored else ""
            reply = {"text": message.text, "sent_at": message.sent_at, "chat_id": message.chat_id}
            lead_emit(lead=lead, type="lead.replied", data={"reply": reply, "conversation_url": conversation_url})
        return result


def _reply(message: IncomingMessage, source: str) -> Ingested:
    lead, people = _lead_for(message)
    if lead is None:
        return Ingested("reply from a sender who is not a lead: kept for the inbox")
    try:
        with transaction.atomic():
            Event.objects.create(
                lead=lead,
                account=message.account,
                type=EventType.REPLY_RECEIVED,
                occurred_at=message.sent_at,
                external_id=message.message_id,
                data={"chat_id": message.chat_id, "source": source, "preview": message.text[:200]},
            )
    except IntegrityError:
        return Ingested("reply already recorded")
    updates = {}
    if is_resolved_member_id(message.person_provider_id) and not lead.provider_id:
        updates["provider_id"] = message.person_provider_id
    if message.chat_id and not lead.chat_id:
        updates["chat_id"] = message.chat_id
    if updates:
        Lead.objects.filter(pk=lead.pk).update(**updates)
    if lead.can_transition_to(LeadStatus.REPLIED):
        lead_transition(
            lead=lead,
            to=LeadStatus.REPLIED,
            reason=f"replied ({source})",
            account=message.account,
            when=message.sent_at,
        )
    stopped = 0
    if lead.campaign.one_conversation_per_person:
        for other in people:
            if other.pk != lead.pk and other.status in ACTIVE_STATUSES:
                lead_pause(lead=other, reason=f"Replied in campaign {lead.campaign} (one conversation per person).")
                stopped += 1
    note = f"reply from lead {lead.pk}" + (f"; {stopped} other lead(s) of the same person stopped" if stopped else "")
    return Ingested(note, new_reply=True)


def _outbound(message: IncomingMessage) -> str:
    account = message.account
    if OutboundAction.objects.filter(account=account, message_id=message.message_id).exists():
        return "our own message"
    # The webhook can arrive before the sender has recorded the message id: same text, claimed or sent just now.
    recent = OutboundAction.objects.filter(
        account=account,
        status__in=["claimed", "sent"],
        text=message.text,
        claimed_at__gte=message.sent_at - OWN_MESSAGE_WINDOW,
    )
    if recent.exists():
        return "our own message"
    lead, _people = _lead_for(message)
    if lead is None:
        return "message written by hand to someone who is not a lead"
    if lead.status in ACTIVE_STATUSES:
        lead_pause(
            lead=lead,
            reason="A message was written by hand on LinkedIn: the sequence is paused so it does not talk over it.",
        )
        return f"hand-written message: lead {lead.pk} paused"
    return f"hand-written message to lead {lead.pk} ({lead.get_status_display().lower()})"


def handle_message_webhook(payload: dict, delivery) -> str:
    message = from_webhook(payload)
    if message is None:
        return "unknown account: ignored"
    return ingest(message, source="webhook").note
