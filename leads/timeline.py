"""A lead's whole story in one list: events, the actions queued or failed (with their text), the messages of its
conversations, and its status changes with who and why. Times are the campaign's (UTC is kept beside them)."""

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from .models import Event, EventType, Lead

TIMELINE_LIMIT = 300


@dataclass
class Entry:
    at: dt.datetime
    kind: str  # the event type, "action_<status>", "message_in" or "message_out"
    title: str
    detail: str = ""
    actor: str = ""
    conversation_id: int | None = None
    data: dict = field(default_factory=dict)

    def local(self, zone) -> dt.datetime:
        return timezone.localtime(self.at, zone)


def _event_entry(event: Event, step_labels: dict[int, str]) -> Entry:
    data = event.data or {}
    title = event.get_type_display()
    detail = ""
    if event.type == EventType.LEAD_STATUS_CHANGED:
        title = f"Status: {data.get('from', '?')} → {data.get('to', '?')}"
        detail = data.get("reason", "")
    elif event.type == EventType.SEND_FAILED:
        detail = f"{data.get('kind', '')}: {data.get('detail', data.get('error', ''))}".strip(": ")
    elif event.type in (EventType.STEP_SKIPPED, EventType.CONDITION_DECIDED):
        detail = data.get("reason", "")
    step = data.get("step")
    if step is not None:
        label = step_labels.get(int(step)) if str(step).isdigit() else None
        title += f" · step {step}{f' “{label}”' if label else ''}"
    if data.get("variant"):
        title += f" (variant {data['variant']})"
    if event.account_id and event.type != EventType.LEAD_STATUS_CHANGED:
        detail = (detail + f" · from {event.account}").strip(" ·") if event.account else detail
    return Entry(
        at=event.occurred_at, kind=event.type, title=title, detail=detail, actor=data.get("actor", ""), data=data
    )


def lead_timeline(lead: Lead, *, limit: int = TIMELINE_LIMIT) -> list[Entry]:
    """Newest first, at most `limit` entries of each source (a fixed number of queries)."""
    from campaigns.models import OutboundAction
    from inbox.models import Message

    step_labels = {s.position: s.display_label for s in lead.campaign.steps.all()}
    messages = list(
        Message.objects.filter(conversation__lead=lead)
        .exclude(direction=Message.Direction.OUTBOUND, action__step__isnull=False)  # sequence sends: their events
        .select_related("author", "conversation")
        .order_by("-sent_at")[:limit]
    )
    events = lead.events.select_related("account").order_by("-occurred_at", "-id")
    if any(m.direction == Message.Direction.INBOUND for m in messages):
        events = events.exclude(type=EventType.REPLY_RECEIVED)  # the reply is there with its text and class
    entries = [_event_entry(event, step_labels) for event in events[:limit]]
    # Actions not (yet) sent: a sent one has its own event above.
    for action in (
        OutboundAction.objects.filter(lead=lead)
        .exclude(status=OutboundAction.Status.SENT)
        .select_related("step", "account")
        .order_by("-created_at")[:limit]
    ):
        where = f" · step {action.step.position} “{action.step.display_label}”" if action.step_id else " · staff reply"
        entries.append(
            Entry(
                at=action.created_at,
                kind=f"action_{action.status}",
                title=f"{action.get_action_display()} {action.get_status_display().lower()}{where}",
                detail=" · ".join(
                    part
                    for part in (
                        f"“{action.text}”" if action.text else "",
                        f"scheduled {timezone.localtime(action.scheduled_for, lead.campaign.timezone):%Y-%m-%d %H:%M}",
                        action.last_error,
                        f"on {action.account}",
                    )
                    if part
                ),
            )
        )
    for message in messages:
        inbound = message.direction == Message.Direction.INBOUND
        title = f"Reply received ({message.get_reply_class_display()})" if inbound else "Message in the conversation"
        if not inbound and message.author_id:
            title = f"Reply by {message.author.get_username()}"
        entries.append(
            Entry(
                at=message.sent_at,
                kind="message_in" if inbound else "message_out",
                title=title,
                detail=message.text,
                actor=message.author.get_username() if message.author_id else "",
                conversation_id=message.conversation_id,
            )
        )
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries
