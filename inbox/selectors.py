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
    return _search(queryset, filters.q)


def inbox_list(user, filters: InboxFilters) -> QuerySet[Conversation]:
    """Unread first, then newest; with what the list shows in the same query."""
    return (
        filter_conversations(conversations_for(user), filters, user)
        .select_related("account", "lead__campaign", "assignee", "client")
        .order_by("-unread", "-last_message_at", "-id")
    )


def inbox_counters(user, *, client: int | None = None) -> dict[str, int]:
    """Unread conversations per navigation entry, in one query."""
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


class CappedPaginator(Paginator):
    """Counts at most COUNT_CAP rows: page links stay cheap on a list of a million conversations."""

    COUNT_CAP = 5000

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[: self.COUNT_CAP + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.COUNT_CAP


def conversation_messages(conversation: Conversation) -> QuerySet[Message]:
    return conversation.messages.select_related("action", "author").order_by("sent_at", "id")
