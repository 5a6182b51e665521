"""Reads on leads that several apps need."""

from django.db.models import Q, QuerySet

from .models import Event, EventType, Lead


def leads_of_person(*, client_id: int, provider_id: str = "", public_identifier: str = "") -> QuerySet[Lead]:
    """Every lead of the client that is this person, by member id first, then by profile slug."""
    match = Q(pk__in=[])
    if provider_id:
        match |= Q(provider_id=provider_id)
    if public_identifier:
        match |= Q(public_identifier=public_identifier.lower())
    return Lead.objects.filter(match, campaign__client_id=client_id).select_related("campaign", "sender")


def pick_lead(leads, *, account_id: int, chat_id: str = "") -> Lead | None:
    """Of a person's leads, the one this conversation belongs to: same chat, then same sender, then newest."""
    leads = list(leads)
    for rule in (
        lambda lead: chat_id and lead.chat_id == chat_id,
        lambda lead: lead.sender_id == account_id,
        lambda lead: True,
    ):
        chosen = [lead for lead in leads if rule(lead)]
        if chosen:
            return max(chosen, key=lambda lead: lead.pk)
    return None


EXPORT_HEADER = [
    "id",
    "campaign",
    "first name",
    "last name",
    "company",
    "title",
    "email",
    "linkedin url",
    "public identifier",
    "provider id",
    "status",
    "current step",
    "next action at",
    "sender",
    "invited at",
    "connected at",
    "replied at",
    "last error",
]


def _iso(value):
    return value.isoformat() if value else ""


def lead_export_rows(queryset):
    for lead in queryset.select_related("campaign", "sender").iterator(chunk_size=2000):
        yield [
            lead.pk,
            lead.campaign.name,
            lead.first_name,
            lead.last_name,
            lead.company,
            lead.title,
            lead.email,
            lead.linkedin_url,
            lead.public_identifier,
            lead.provider_id,
            lead.status,
            lead.current_step,
            _iso(lead.next_action_at),
            lead.sender.name if lead.sender else "",
            _iso(lead.invited_at),
            _iso(lead.connected_at),
            _iso(lead.replied_at),
            lead.last_error,
        ]


def lead_failed_attempts(lead: Lead, *, limit: int = 20) -> list[Event]:
    """The lead's latest send attempts that did not go through, newest first (the sender writes one per attempt)."""
    return list(
        lead.events.filter(type=EventType.SEND_FAILED).select_related("account").order_by("-occurred_at", "-id")[:limit]
    )
