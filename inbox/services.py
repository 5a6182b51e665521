"""Writes on the inbox: conversations and messages upserted idempotently, replies through the send queue,
and the staff actions (assign, read, snooze, close, link, stop)."""

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from campaigns.models import OutboundAction, Step
from integrations import outbound
from integrations.models import LinkedInAccount
from leads.linkedin import is_resolved_member_id
from leads.models import ACTIVE_STATUSES, Lead
from leads.services import lead_pause
from outreach.tenancy import may_client

from .classify import CLASSES, classify
from .models import Conversation, Label, Message, Note, Participant, SavedReply

logger = logging.getLogger("outreach.inbox")
PREVIEW_LENGTH = 300
MAX_REPLY_LENGTH = 8000  # LinkedIn refuses longer messages


class InboxActionRefused(Exception):
    code = "invalid_state_transition"


# --- Upserts ---------------------------------------------------------------------------------------


def conversation_upsert(
    *, account: LinkedInAccount, chat_id: str, lead: Lead | None = None, person_name: str = "", person_provider_id=""
) -> Conversation:
    """The conversation of (account, chat id), created on first sight; fills the lead and person when learnt."""
    conversation = Conversation.objects.filter(account=account, chat_id=chat_id).first()
    if conversation is None:
        try:
            with transaction.atomic():
                conversation = Conversation.objects.create(
                    client_id=account.client_id,
                    account=account,
                    chat_id=chat_id,
                    lead=lead,
                    person_name=(person_name or (lead.full_name if lead else ""))[:200],
                    person_provider_id=person_provider_id[:100],
                )
        except IntegrityError:  # created by a concurrent ingestion meanwhile
            conversation = Conversation.objects.get(account=account, chat_id=chat_id)
    updates = {}
    if lead is not None and conversation.lead_id is None:
        updates["lead"] = lead
    if person_name and not conversation.person_name:
        updates["person_name"] = person_name[:200]
    if person_provider_id and not conversation.person_provider_id:
        updates["person_provider_id"] = person_provider_id[:100]
    if updates:
        Conversation.objects.filter(pk=conversation.pk).update(**updates)
        for name, value in updates.items():
            setattr(conversation, name, value)
    if person_provider_id:
        Participant.objects.get_or_create(
            conversation=conversation,
            provider_id=person_provider_id[:100],
            defaults={"name": person_name[:200]},
        )
    return conversation


def _touch(conversation: Conversation, message: Message) -> None:
    """Counters and the last-message fields, moved by the database so concurrent ingestions add up."""
    inbound = message.direction == Message.Direction.INBOUND
    if inbound:
        # A new reply reopens a closed or snoozed conversation.
        Conversation.objects.filter(pk=conversation.pk).update(
            unread_count=F("unread_count") + 1,
            unread=True,
            status=Conversation.Status.OPEN,
            snoozed_until=None,
            reply_class=message.reply_class,
        )
    Conversation.objects.filter(pk=conversation.pk).filter(
        Q(last_message_at__isnull=True) | Q(last_message_at__lte=message.sent_at)
    ).update(
        last_message_at=message.sent_at,
        last_message_preview=message.text[:PREVIEW_LENGTH],
        last_message_inbound=inbound,
    )


def message_record(
    *,
    conversation: Conversation,
    inbound: bool,
    text: str,
    provider_message_id: str,
    sent_at: dt.datetime,
    sender_name: str = "",
) -> tuple[Message, bool]:
    """Store a message once per provider id; (message, created)."""
    if provider_message_id:
        existing = Message.objects.filter(provider_message_id=provider_message_id).first()
        if existing is not None:
            return existing, False
    if not inbound and provider_message_id:
        # Our own reply, echoed back before or after the sender stored its provider id.
        own = (
            Message.objects.filter(
                conversation=conversation,
                direction=Message.Direction.OUTBOUND,
                provider_message_id="",
                text=text,
                action__isnull=False,
            )
            .order_by("-id")
            .first()
        )
        if own is not None:
            Message.objects.filter(pk=own.pk).update(provider_message_id=provider_message_id)
            own.provider_message_id = provider_message_id
            return own, False
    said = classify(text, today=sent_at.date()) if inbound else None
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation,
                direction=Message.Direction.INBOUND if inbound else Message.Direction.OUTBOUND,
                text=text,
                sender_name=sender_name[:200],
                provider_message_id=provider_message_id[:200],
                sent_at=sent_at,
                reply_class=said.kind if said else "",
                machine_class=said.kind if said else "",
                class_date=said.until if said else None,
                referral=(said.referral if said else "")[:200],
            )
    except IntegrityError:
        return Message.objects.get(provider_message_id=provider_message_id), False
    _touch(conversation, message)
    outbound.emit(
        client_id=conversation.client_id,
        type="message.received" if inbound else "message.sent",
        data={
            "message": {"id": message.pk, "text": text, "sent_at": sent_at, "sender_name": message.sender_name},
            "conversation": {
                "id": conversation.pk,
                "chat_id": conversation.chat_id,
                "lead_id": conversation.lead_id,
                "url": f"{settings.PUBLIC_BASE_URL}/inbox/{conversation.pk}/",
            },
        },
        lead_id=conversation.lead_id,
    )
    return message, True


def ingest_into_inbox(incoming, *, lead: Lead | None) -> Message | None:
    """Called by inbox.ingest for every message learnt from a webhook or polling."""
    if not incoming.chat_id:
        return None
    conversation = conversation_upsert(
        account=incoming.account,
        chat_id=incoming.chat_id,
        lead=lead,
        person_name=incoming.person_name,
        person_provider_id=incoming.person_provider_id,
    )
    message, _created = message_record(
        conversation=conversation,
        inbound=incoming.inbound,
        text=incoming.text,
        provider_message_id=incoming.message_id,
        sent_at=incoming.sent_at,
        sender_name=incoming.person_name if incoming.inbound else incoming.account.name,
    )
    return message


def record_engine_send(*, action: OutboundAction, refs, when: dt.datetime) -> None:
    """A message the engine (or a staff reply) delivered lands in its conversation."""
    if action.action not in (Step.Action.MESSAGE, Step.Action.INMAIL):
        return
    chat_id = refs.chat_id or action.chat_id
    if not chat_id:
        return
    linked = Message.objects.filter(action=action).first()
    if linked is not None:
        Message.objects.filter(pk=linked.pk).update(provider_message_id=refs.message_id or "", sent_at=when)
        return
    lead = action.lead
    conversation = action.conversation or conversation_upsert(
        account=action.account,
        chat_id=chat_id,
        lead=lead,
        person_name=lead.full_name if lead else "",
        person_provider_id=lead.provider_id if lead and is_resolved_member_id(lead.provider_id) else "",
    )
    if refs.message_id and Message.objects.filter(provider_message_id=refs.message_id).exists():
        Message.objects.filter(provider_message_id=refs.message_id, action__isnull=True).update(action=action)
        return
    message = Message.objects.create(
        conversation=conversation,
        direction=Message.Direction.OUTBOUND,
        text=action.text,
        sender_name=action.account.name,
        provider_message_id=refs.message_id or "",
        sent_at=when,
        action=action,
    )
    _touch(conversation, message)


def on_action_sent(sender, *, action, refs, when, **kwargs):
    """Receiver of campaigns.signals.action_sent. A failure here never undoes the record of a send."""
    try:
        with transaction.atomic():
            record_engine_send(action=action, refs=refs, when=when)
    except Exception:
        logger.exception("Could not add sent action %s to the inbox; the message webhook will bring it", action.pk)


# --- Replies ---------------------------------------------------------------------------------------


@transaction.atomic
def conversation_reply(
    *, conversation: Conversation, text: str, user, send_now: bool = False, form_token: str = ""
) -> tuple[Message, bool]:
    """Queue a reply on the conversation's sender account; (message, created). The same form token twice
    returns the first message: a double-submitted form sends once."""
    text = text.strip()
    if not text:
        raise InboxActionRefused("Write something before sending.")
    if len(text) > MAX_REPLY_LENGTH:
        raise InboxActionRefused(f"A LinkedIn message holds at most {MAX_REPLY_LENGTH} characters ({len(text)} given).")
    locked = (
        Conversation.objects.select_for_update(of=("self",)).select_related("account", "lead").get(pk=conversation.pk)
    )
    if form_token:
        earlier = Message.objects.filter(conversation=locked, form_token=form_token).first()
        if earlier is not None:
            return earlier, False
    now = timezone.now()
    action = OutboundAction.objects.create(
        lead=locked.lead,
        account=locked.account,
        action=Step.Action.MESSAGE,
        text=text,
        chat_id=locked.chat_id,
        conversation=locked,
        send_now=send_now,
        scheduled_for=now,
    )
    message = Message.objects.create(
        conversation=locked,
        direction=Message.Direction.OUTBOUND,
        text=text,
        sender_name=locked.account.name,
        sent_at=now,
        action=action,
        author=user,
        form_token=form_token[:64],
    )
    Conversation.objects.filter(pk=locked.pk).update(
        unread_count=0,
        unread=False,
        last_message_at=now,
        last_message_preview=text[:PREVIEW_LENGTH],
        last_message_inbound=False,
    )
    if locked.lead is not None and locked.lead.status in ACTIVE_STATUSES:
        # A person now talks with the lead: the automated sequence must not talk over them.
        lead_pause(lead=locked.lead, reason="Staff replied from the inbox.", actor=user)
    if send_now:
        from campaigns.tasks import send_account

        transaction.on_commit(lambda: send_account.delay(locked.account_id))
    return message, True


# --- Staff actions ---------------------------------------------------------------------------------


def _update(conversation: Conversation, **fields) -> Conversation:
    Conversation.objects.filter(pk=conversation.pk).update(**fields)
    # Only the changed fields are read back: the loaded account, lead and client stay loaded.
    conversation.refresh_from_db(fields=[Conversation._meta.get_field(name).attname for name in fields])
    return conversation


def conversation_mark_read(*, conversation: Conversation) -> Conversation:
    return _update(conversation, unread_count=0, unread=False)


def conversation_mark_unread(*, conversation: Conversation) -> Conversation:
    return _update(conversation, unread_count=F("unread_count") + (0 if conversation.unread_count else 1), unread=True)


# The same words whether the user does not exist or belongs elsewhere: a refusal never confirms a username.
NOT_ASSIGNABLE = "Only an active member of the conversation's client can be assigned."


def conversation_assign(*, conversation: Conversation, user) -> Conversation:
    """Assign to a user (None: unassign). The user must be able to see the conversation's client."""
    if user is not None and not (user.is_active and may_client(user, conversation.client_id)):
        raise InboxActionRefused(NOT_ASSIGNABLE)
    with transaction.atomic():
        conversation = _update(conversation, assignee=user)
        outbound.emit(
            client_id=conversation.client_id,
            type="conversation.assigned",
            data={
                "conversation": {
                    "id": conversation.pk,
                    "lead_id": conversation.lead_id,
                    "url": f"{settings.PUBLIC_BASE_URL}/inbox/{conversation.pk}/",
                },
                "assignee": {"id": user.pk, "username": user.get_username()} if user is not None else None,
            },
            lead_id=conversation.lead_id,
        )
    return conversation


def conversation_snooze(*, conversation: Conversation, until: dt.datetime) -> Conversation:
    if until <= timezone.now():
        raise InboxActionRefused("Snooze until a time in the future.")
    return _update(conversation, status=Conversation.Status.SNOOZED, snoozed_until=until)


def conversation_close(*, conversation: Conversation) -> Conversation:
    if conversation.status == Conversation.Status.CLOSED:
        raise InboxActionRefused("The conversation is already closed.")
    return _update(conversation, status=Conversation.Status.CLOSED, snoozed_until=None, unread_count=0, unread=False)


def conversation_reopen(*, conversation: Conversation) -> Conversation:
    if conversation.status == Conversation.Status.OPEN:
        raise InboxActionRefused("The conversation is already open.")
    return _update(conversation, status=Conversation.Status.OPEN, snoozed_until=None)


def conversation_link_lead(*, conversation: Conversation, lead: Lead) -> Conversation:
    if lead.campaign.client_id != conversation.client_id:
        raise InboxActionRefused("That lead belongs to another client.")
    conversation = _update(conversation, lead=lead)
    Lead.objects.filter(pk=lead.pk, chat_id="").update(chat_id=conversation.chat_id)
    return conversation


def conversation_stop_sequence(*, conversation: Conversation, user) -> Lead:
    lead = conversation.lead
    if lead is None:
        raise InboxActionRefused("The conversation is not linked to a lead.")
    if lead.status not in ACTIVE_STATUSES:
        raise InboxActionRefused(f"The lead's sequence is not running ({lead.get_status_display().lower()}).")
    return lead_pause(lead=lead, reason="Sequence stopped from the inbox.", actor=user)


# --- What a reply says ------------------------------------------------------------------------------


@transaction.atomic
def message_set_class(*, message: Message, kind: str, user) -> Message:
    """Staff correct a reply's class; what the rules said is kept beside it (reports count corrections)."""
    if kind not in dict(CLASSES):
        raise InboxActionRefused(f"{kind!r} is not a reply class.")
    if message.direction != Message.Direction.INBOUND:
        raise InboxActionRefused("Only a received message has a class.")
    Message.objects.filter(pk=message.pk).update(
        reply_class=kind, class_corrected_by=user, class_corrected_at=timezone.now()
    )
    latest = message.conversation.messages.filter(direction=Message.Direction.INBOUND).order_by("-sent_at", "-id")
    if latest.values_list("pk", flat=True).first() == message.pk:
        Conversation.objects.filter(pk=message.conversation_id).update(reply_class=kind)
    message.refresh_from_db()
    return message


@transaction.atomic
def conversation_opt_out(*, conversation: Conversation, user) -> int:
    """The person goes on the client's do-not-contact list (their profile and email, never their email's domain):
    every campaign of the client stops writing to them. Returns how many of the client's leads stopped."""
    from leads.dnc import DncEntry as Entry
    from leads.dnc import Kind, dnc_entries_for_lead
    from leads.services import dnc_bulk_add

    lead = conversation.lead
    entries = dnc_entries_for_lead(lead) if lead else []
    if conversation.person_provider_id and all(e.value != conversation.person_provider_id for e in entries):
        entries.append(Entry(Kind.PROVIDER_ID, conversation.person_provider_id))
    if not entries:
        raise InboxActionRefused("Nothing identifies this person: link the conversation to a lead first.")
    _, stopped = dnc_bulk_add(
        client=conversation.client, entries=entries, user=user, reason="Opted out in a reply (from the inbox)."
    )
    return stopped


def _status_before_reply(lead: Lead) -> str:
    """Where the lead was when the reply stopped it: the status change to replied says; else its milestones."""
    from leads.models import EventType

    change = lead.events.filter(type=EventType.LEAD_STATUS_CHANGED, data__to="replied").order_by("-occurred_at").first()
    if change is not None and change.data.get("from") in ACTIVE_STATUSES:
        return change.data["from"]
    if lead.connected_at is not None:
        sent = lead.events.filter(type__in=[EventType.MESSAGE_SENT, EventType.INMAIL_SENT]).exists()
        return "messaged" if sent else "connected"
    return "invited" if lead.invited_at is not None else "pending"


@transaction.atomic
def lead_resume_after(*, lead: Lead, when: dt.datetime, user) -> Lead:
    """An out-of-office answer stopped the lead as a reply: it waits instead, and its sequence goes on at `when`."""
    from leads.models import LeadStatus
    from leads.services import lead_transition

    if when <= timezone.now():
        raise InboxActionRefused("Resume at a time in the future.")
    if lead.status != LeadStatus.REPLIED:
        raise InboxActionRefused(f"The lead is {lead.get_status_display().lower()}, not stopped by a reply.")
    before = _status_before_reply(lead)
    lead_transition(
        lead=lead, to=LeadStatus.PAUSED, actor=user, reason=f"Out of office: the sequence resumes on {when:%Y-%m-%d}."
    )
    Lead.objects.filter(pk=lead.pk).update(resume_status=before, resume_at=when)
    lead.refresh_from_db()
    return lead


def leads_resume_due(now: dt.datetime | None = None) -> int:
    """Leads held after an out-of-office answer go on once their date has come."""
    from leads.services import lead_resume

    now = now or timezone.now()
    resumed = 0
    for lead in Lead.objects.filter(status="paused", resume_at__lte=now).select_related("campaign")[:500]:
        with transaction.atomic():
            lead_resume(lead=lead)
            Lead.objects.filter(pk=lead.pk).update(resume_at=None)
        resumed += 1
    return resumed


def wake_snoozed(now: dt.datetime | None = None) -> int:
    """Snoozed conversations whose time has come are open again."""
    now = now or timezone.now()
    woken = Conversation.objects.filter(status=Conversation.Status.SNOOZED, snoozed_until__lte=now).update(
        status=Conversation.Status.OPEN, snoozed_until=None
    )
    return woken + leads_resume_due(now)


# --- Labels, saved replies, notes ----------------------------------------------------------------------


class TriageRefused(InboxActionRefused):
    """Bad input for a label, a saved reply or a note: field names the form field."""

    code = "validation_error"

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def label_check(*, client, name: str, colour: str, label: Label | None = None) -> None:
    name = (name or "").strip()
    if not name:
        raise TriageRefused("name", "A label needs a name.")
    if len(name) > 40:
        raise TriageRefused("name", "A label's name is at most 40 characters.")
    if colour not in dict(Label.COLOURS):
        raise TriageRefused("colour", f"{colour!r} is not one of the label colours.")
    taken = Label.objects.filter(client=client, name__iexact=name)
    if label is not None and label.pk:
        taken = taken.exclude(pk=label.pk)
    if taken.exists():
        raise TriageRefused("name", f"{client} already has a label named {name!r}.")


def label_save(*, client, name: str, colour: str = "#2563eb", label: Label | None = None) -> Label:
    label_check(client=client, name=name, colour=colour, label=label)
    label = label or Label(client=client)
    label.name, label.colour = name.strip(), colour
    label.save()
    return label


@transaction.atomic
def conversations_label(*, conversations, label: Label, add: bool = True) -> int:
    """Put a label on (or take it off) conversations and their leads, all of the label's client."""
    conversations = list(conversations)
    if any(c.client_id != label.client_id for c in conversations):
        raise InboxActionRefused(f"The label {label} belongs to another client.")
    leads = [c.lead_id for c in conversations if c.lead_id]
    if add:
        label.conversations.add(*conversations)
        label.leads.add(*leads)
    else:
        label.conversations.remove(*conversations)
        label.leads.remove(*leads)
    return len(conversations)


def saved_reply_problems(text: str) -> list[str]:
    """The same checks as a step's template, and LinkedIn's length."""
    from campaigns.personalization import template_problems

    if not (text or "").strip():
        return ["A saved reply needs a text."]
    problems = list(template_problems(text))
    if len(text) > MAX_REPLY_LENGTH:
        problems.append(f"A reply is at most {MAX_REPLY_LENGTH} characters; this one has {len(text)}.")
    return problems


def saved_reply_check(*, client, name: str, text: str, saved: SavedReply | None = None) -> None:
    """A name of its own in the client, and a text that passes saved_reply_problems (the admin's form calls this)."""
    name = (name or "").strip()
    if not name:
        raise TriageRefused("name", "A saved reply needs a name.")
    taken = SavedReply.objects.filter(client=client, name__iexact=name)
    if saved is not None and saved.pk:
        taken = taken.exclude(pk=saved.pk)
    if taken.exists():
        raise TriageRefused("name", f"{client} already has a saved reply named {name!r}.")
    if problems := saved_reply_problems(text):
        raise TriageRefused("text", " ".join(problems))


def saved_reply_save(*, client, name: str, text: str, saved: SavedReply | None = None) -> SavedReply:
    saved_reply_check(client=client, name=name, text=text, saved=saved)
    saved = saved or SavedReply(client=client)
    saved.name, saved.text = name.strip(), text
    saved.save()
    return saved


def saved_replies_for(conversation: Conversation) -> list[tuple[SavedReply, str]]:
    """The client's saved replies, each rendered for the conversation's lead (or with its fallbacks)."""
    from campaigns.personalization import render

    out = []
    for saved in SavedReply.objects.filter(client_id=conversation.client_id).order_by("name"):
        rendered = render(saved.text, conversation.lead) if conversation.lead else None
        text = rendered.text if rendered is not None and rendered.ok else saved.text
        out.append((saved, text))
    return out


def note_add(*, conversation: Conversation, user, text: str) -> Note:
    text = (text or "").strip()
    if not text:
        raise TriageRefused("note", "A note needs a text.")
    if len(text) > MAX_REPLY_LENGTH:
        raise TriageRefused("note", f"A note is at most {MAX_REPLY_LENGTH} characters.")
    return Note.objects.create(conversation=conversation, author=user, text=text)
