"""Reads of the inbox, shared by the staff pages and the API: scoping, filters, search, counters."""

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.functional import cached_property

from outreach.tenancy import client_ids_for

from .models import Conversation, Message

ASSIGNEE_CHOICES = ("anyone", "me", "unassigned")


@dataclass
class InboxFilters:
    status: str = Conversation.Status.OPEN  # open | snoozed | closed | all
    client: int | None = None
    account: int | None = None
    campaign: int | None = None
    assignee: str = "anyone"  # anyone | me | unassigned | a user id
    unread: bool = False
    q: str = ""
    label: int | None = None
    reply_class: str = ""


def conversations_for(user) -> QuerySet[Conversation]:
    """Every conversation the user may see."""
    queryset = Conversation.objects.all()
    if not user.is_superuser:
        queryset = queryset.filter(client_id__in=client_ids_for(user))
    return queryset


def _search(queryset: QuerySet[Conversation], q: str) -> QuerySet[Conversation]:
    q = q.strip()
    if not q:
        return queryset
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        messages = Message.objects.annotate(document=SearchVector("text", config="simple")).filter(
            conversation=OuterRef("pk"), document=SearchQuery(q, config="simple", search_type="websearch")
        )
    else:
        messages = Message.objects.filter(conversation=OuterRef("pk"), text__icontains=q)
    return queryset.filter(Q(person_name__icontains=q) | Exists(messages))


def filter_conversations(queryset: QuerySet[Conversation], filters: InboxFilters, user) -> QuerySet[Conversation]:
    if filters.status != "all":
        queryset = queryset.filter(status=filters.status)
    if filters.client:
        queryset = queryset.filter(client_id=filters.client)
    if filters.account:
        queryset = queryset.filter(account_id=filters.account)
    if filters.campaign:
        queryset = queryset.filter(lead__campaign_id=filters.campaign)
    if filters.assignee == "me":
        queryset = queryset.filter(assignee=user)
    elif filters.assignee == "unassigned":
        queryset = queryset.filter(assignee__isnull=True)
    elif filters.assignee.isdigit():
        queryset = queryset.filter(assignee_id=int(filters.assignee))
    if filters.unread:
        queryset = queryset.filter(unread=True)
    if filters.label:
        # A probe per row of the list's own index, stopping at the page (a join would sort every labelled row).
        from .models import Label

        tagged = Label.conversations.through.objects.filter(conversation=OuterRef("pk"), label_id=filters.label)
        queryset = queryset.filter(Exists(tagged))
    if filters.reply_class:
        queryset = queryset.filter(reply_class=filters.reply_class)
    return _search(queryset, filters.q)


def inbox_list(user, filters: InboxFilters) -> QuerySet[Conversation]:
    """Unread first, then newest; with what the list shows in the same query."""
    return (
        filter_conversations(conversations_for(user), filters, user)
        .select_related("account", "lead__campaign", "assignee", "client")
        .prefetch_related("labels")
        .order_by("-unread", "-last_message_at", "-id")
    )


def inbox_counters(user, *, client: int | None = None) -> dict[str, int]:
    """Unread conversations per navigation entry, in one query through the small unread index. Every number of
    the sidebar counts unread conversations, and says so (a total would read the whole list on each poll)."""
    queryset = conversations_for(user).filter(unread=True)
    if client:
        queryset = queryset.filter(client_id=client)
    open_ = Q(status=Conversation.Status.OPEN)
    return queryset.aggregate(
        open=Count("id", filter=open_),
        mine=Count("id", filter=open_ & Q(assignee=user)),
        unassigned=Count("id", filter=open_ & Q(assignee__isnull=True)),
        snoozed=Count("id", filter=Q(status=Conversation.Status.SNOOZED)),
        closed=Count("id", filter=Q(status=Conversation.Status.CLOSED)),
    )


def inbox_facets(user, *, client: int | None = None) -> dict:
    """Unread open conversations by reply class (one grouped query through the unread index), and the labels."""
    from .classify import CLASSES
    from .models import Label

    base = conversations_for(user).filter(status=Conversation.Status.OPEN, unread=True)
    if client:
        base = base.filter(client_id=client)
    by_class = dict(base.exclude(reply_class="").values_list("reply_class").annotate(n=Count("id")).order_by())
    labels = Label.objects.all()
    if client:
        labels = labels.filter(client_id=client)
    if not user.is_superuser:
        labels = labels.filter(client_id__in=client_ids_for(user))
    # Labels are links without counts: counting them joined every unread conversation's labels on each page
    # (25 ms at 100,000 conversations), where the class counts read the conversations alone.
    return {
        "classes": [(kind, name, by_class.get(kind, 0)) for kind, name in CLASSES if by_class.get(kind)],
        "labels": list(labels.order_by("name")[:50]),
    }


class CappedPaginator(Paginator):
    """Counts at most COUNT_CAP rows: page links stay cheap on a list of a million conversations."""

    COUNT_CAP = 5000
    SEARCH_COUNT_CAP = 200  # a search's or a label's count probes every candidate row: it stops sooner

    def __init__(self, *args, searching: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if searching:
            self.COUNT_CAP = self.SEARCH_COUNT_CAP

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: self.COUNT_CAP + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.COUNT_CAP


def conversation_messages(conversation: Conversation) -> QuerySet[Message]:
    return conversation.messages.select_related("action", "author", "class_corrected_by").order_by("sent_at", "id")


@dataclass
class ThreadItem:
    kind: str  # message | note | event
    at: object
    message: Message | None = None
    note: object = None
    text: str = ""


def conversation_thread(conversation: Conversation) -> list[ThreadItem]:
    """The whole story in order: the invitation and its note, every message with its delivery state, the
    acceptance, class corrections, and the team's internal notes."""
    from campaigns.models import OutboundAction
    from leads.models import Event, EventType

    items = [ThreadItem("message", m.sent_at, message=m) for m in conversation_messages(conversation)]
    items += [ThreadItem("note", n.created_at, note=n) for n in conversation.notes.select_related("author")]
    for m in (i.message for i in items if i.kind == "message" and i.message.class_corrected_at):
        who = m.class_corrected_by.get_username() if m.class_corrected_by else "someone"
        items.append(
            ThreadItem(
                "event",
                m.class_corrected_at,
                text=f"{who} set the class to {m.get_reply_class_display().lower()} (the rules said "
                f"{m.get_machine_class_display().lower()})",
            )
        )
    lead = conversation.lead
    if lead is not None:
        for invite in OutboundAction.objects.filter(lead=lead, action="invite", status="sent").order_by("sent_at"):
            note = f": \u201c{invite.text}\u201d" if invite.text else " without a note"
            items.append(ThreadItem("event", invite.sent_at or invite.created_at, text=f"Invitation sent{note}"))
        for event in Event.objects.filter(lead=lead, type=EventType.INVITE_ACCEPTED).order_by("occurred_at"):
            items.append(ThreadItem("event", event.occurred_at, text="Invitation accepted"))
    items.sort(key=lambda item: item.at)
    return items
