"""Do-not-contact: the one place that parses, normalizes and matches entries.

Entries are normalized when written (emails and domains lowercased, profile slugs decoded and lowercased,
member ids as given), and a lead's side goes through the same normalization, so a match is an indexed
equality on (kind, value) wherever it is asked: the planner, the import, the API and the admin.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q

from .linkedin import InvalidLinkedInIdentifier, normalize_linkedin
from .models import DoNotContact, Lead

Kind = DoNotContact.Kind


class InvalidDncValue(ValueError):
    """The value cannot be an entry; the message says why."""


@dataclass(frozen=True)
class DncEntry:
    kind: str
    value: str

    def describe(self) -> str:
        return f"{DESCRIPTIONS[self.kind]} {self.value}"


DESCRIPTIONS = {
    Kind.PROVIDER_ID: "member id",
    Kind.PUBLIC_IDENTIFIER: "profile",
    Kind.EMAIL: "email",
    Kind.DOMAIN: "domain",
}


def _domain(text: str) -> str:
    domain = text.strip().lstrip("@").lower()
    if "." not in domain or not all(part and part.replace("-", "").isalnum() for part in domain.split(".")):
        raise InvalidDncValue(f"{text!r} is not an email domain.")
    return domain


def _email(text: str) -> str:
    email = text.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidDncValue(f"{text!r} is not a valid email address.") from None
    return email.lower()


def _linkedin(text: str) -> DncEntry:
    try:
        ident = normalize_linkedin(text)
    except InvalidLinkedInIdentifier as exc:
        raise InvalidDncValue(f"{text!r}: {exc}") from None
    if ident.provider_id:
        return DncEntry(Kind.PROVIDER_ID, ident.provider_id)
    return DncEntry(Kind.PUBLIC_IDENTIFIER, ident.public_identifier)


def dnc_parse(value: str, kind: str = "") -> DncEntry:
    """One value as typed or pasted: an email, @domain, a LinkedIn URL, slug or member id; with `kind`, read as
    that kind. Raises InvalidDncValue with the reason."""
    text = (value or "").strip()
    if not text:
        raise InvalidDncValue("The value is empty.")
    if kind == Kind.DOMAIN or (not kind and text.startswith("@") and "." in text and "/" not in text):
        return DncEntry(Kind.DOMAIN, _domain(text))
    if kind == Kind.EMAIL or (not kind and "@" in text and "/" not in text):
        return DncEntry(Kind.EMAIL, _email(text))
    entry = _linkedin(text)
    if kind and entry.kind != kind:
        raise InvalidDncValue(f"{text!r} is a {Kind(entry.kind).label.lower()}, not a {Kind(kind).label.lower()}.")
    return entry


def dnc_keys(*, provider_id: str = "", public_identifier: str = "", email: str = "") -> list[DncEntry]:
    """The entries that would name this person, normalized as entries are."""
    keys = []
    if provider_id:
        keys.append(DncEntry(Kind.PROVIDER_ID, provider_id))
    if public_identifier:
        keys.append(DncEntry(Kind.PUBLIC_IDENTIFIER, public_identifier.lower()))
    if email:
        email = email.strip().lower()
        keys.append(DncEntry(Kind.EMAIL, email))
        keys.append(DncEntry(Kind.DOMAIN, email.rsplit("@", 1)[-1]))
    return keys


def dnc_keys_for_lead(lead: Lead) -> list[DncEntry]:
    return dnc_keys(provider_id=lead.provider_id, public_identifier=lead.public_identifier, email=lead.email)


def dnc_entries_for_lead(lead: Lead) -> list[DncEntry]:
    """What to put on the list to stop this person (the domain of their email is not theirs alone)."""
    return [key for key in dnc_keys_for_lead(lead) if key.kind != Kind.DOMAIN]


class DncMatcher:
    """Answers 'is this person on the list of this client?' from sets loaded once (the import's many rows)."""

    def __init__(self, client):
        self.entries: set[tuple[str, str]] = set(
            DoNotContact.objects.filter(Q(client=client) | Q(client__isnull=True))
            .values_list("kind", "value")
            .iterator(chunk_size=5000)
        )

    def match(self, *, provider_id="", public_identifier="", email="") -> str:
        """Why a person is on the list, or '' when they are not."""
        for key in dnc_keys(provider_id=provider_id, public_identifier=public_identifier, email=email):
            if (key.kind, key.value) in self.entries:
                return key.describe()
        return ""


def dnc_hits(leads: list[Lead]) -> dict[int, str]:
    """Lead id -> why it is on a do-not-contact list, in one indexed query for the batch (the planner's)."""
    keys = {lead.pk: dnc_keys_for_lead(lead) for lead in leads}
    values = {key.value for lead_keys in keys.values() for key in lead_keys}
    if not values:
        return {}
    clients = {lead.campaign.client_id for lead in leads}
    rows = DoNotContact.objects.filter(Q(client_id__in=clients) | Q(client__isnull=True), value__in=values)
    entries = set(rows.values_list("client_id", "kind", "value"))
    if not entries:
        return {}
    hits = {}
    for lead in leads:
        for key in keys[lead.pk]:
            client_id = lead.campaign.client_id
            if (client_id, key.kind, key.value) in entries or (None, key.kind, key.value) in entries:
                hits[lead.pk] = f"on the do-not-contact list ({key.kind.replace('_', ' ')} {key.value})"
                break
    return hits


def dnc_leads_matching(entries: list[DncEntry]) -> Q:
    """Leads any of these entries names (the entries are normalized, the lead's email may not be)."""
    match = Q(pk__in=[])
    by_kind: dict[str, set[str]] = {}
    for entry in entries:
        by_kind.setdefault(entry.kind, set()).add(entry.value)
    if values := by_kind.get(Kind.PROVIDER_ID):
        match |= Q(provider_id__in=values)
    if values := by_kind.get(Kind.PUBLIC_IDENTIFIER):
        match |= Q(public_identifier__in=values)
    for email in by_kind.get(Kind.EMAIL, ()):
        match |= Q(email__iexact=email)
    for domain in by_kind.get(Kind.DOMAIN, ()):
        match |= Q(email__iendswith="@" + domain)
    return match
