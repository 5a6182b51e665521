"""Turn whatever an operator pastes about a LinkedIn person into a public identifier or a provider id."""

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

# Member ids: ACo… (LinkedIn member URN id) and ACw… (Sales Navigator lead id).
PROVIDER_ID_RE = re.compile(r"^AC[a-zA-Z][A-Za-z0-9_-]{10,80}$")
# A profile slug: letters (any script, after percent-decoding), digits, hyphens, underscores, dots.
SLUG_RE = re.compile(r"^[\w.\-]{3,100}$", re.UNICODE)
LINKEDIN_HOST_RE = re.compile(r"^(?:[a-z]{2,3}\.|www\.|m\.)?linkedin\.com$")


class InvalidLinkedInIdentifier(ValueError):
    """The input names no LinkedIn person; the message says why."""


@dataclass(frozen=True)
class LinkedInIdentifier:
    public_identifier: str = ""
    provider_id: str = ""

    @property
    def value(self) -> str:
        return self.provider_id or self.public_identifier


def _from_slug(slug: str) -> LinkedInIdentifier:
    slug = unquote(slug).strip()
    if PROVIDER_ID_RE.match(slug):
        return LinkedInIdentifier(provider_id=slug)
    if not SLUG_RE.match(slug) or slug.strip(".-_") == "":
        raise InvalidLinkedInIdentifier(f"{slug!r} is not a LinkedIn profile identifier.")
    # LinkedIn treats slugs case-insensitively; ids above keep their case.
    return LinkedInIdentifier(public_identifier=slug.lower())


def normalize_linkedin(value: str) -> LinkedInIdentifier:
    """Accepts profile URLs (any scheme, www/country/mobile host, query, fragment, extra path),
    Sales Navigator lead URLs, bare slugs and ACo… ids. Raises InvalidLinkedInIdentifier with a reason."""
    raw = (value or "").strip()
    if not raw:
        raise InvalidLinkedInIdentifier("empty: give a profile URL, a public identifier or a member id.")
    if any(ch.isspace() for ch in raw):
        raise InvalidLinkedInIdentifier("contains spaces: not a URL or an identifier.")

    looks_like_url = "/" in raw or "linkedin." in raw.lower() or ":" in raw
    if not looks_like_url:
        return _from_slug(raw)

    bare_scheme = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):(?!//)", raw)
    if bare_scheme and not LINKEDIN_HOST_RE.match(bare_scheme.group(1).lower()):
        raise InvalidLinkedInIdentifier(f"scheme {bare_scheme.group(1)!r} is not a web address.")
    candidate = raw if "://" in raw else "https://" + raw.lstrip("/")
    parts = urlsplit(candidate)
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidLinkedInIdentifier(f"scheme {parts.scheme!r} is not a web address.")
    if "@" in parts.netloc or "\\" in raw:
        # user@host or a backslash: browsers may open another host than the one this parser sees.
        raise InvalidLinkedInIdentifier("an address with a user name or a backslash is not a profile link.")
    host = (parts.hostname or "").lower()
    if not LINKEDIN_HOST_RE.match(host):
        raise InvalidLinkedInIdentifier(f"{host or raw!r} is not a linkedin.com address.")

    segments = [s for s in parts.path.split("/") if s]
    if not segments:
        raise InvalidLinkedInIdentifier("a LinkedIn address without a profile path.")
    head = segments[0].lower()
    if head == "in":
        if len(segments) < 2:
            raise InvalidLinkedInIdentifier("/in/ without a profile identifier.")
        return _from_slug(segments[1])
    if head == "sales" and len(segments) >= 3 and segments[1].lower() in ("lead", "people", "profile"):
        # /sales/lead/ACwAAA…,NAME_SEARCH,abcd: the id is the part before the first comma.
        lead_id = unquote(segments[2]).split(",")[0]
        if PROVIDER_ID_RE.match(lead_id):
            return LinkedInIdentifier(provider_id=lead_id)
        raise InvalidLinkedInIdentifier(f"Sales Navigator address without a member id ({lead_id!r}).")
    if head == "pub":
        raise InvalidLinkedInIdentifier("an old /pub/ address: open it and use the /in/ address it redirects to.")
    if head in ("company", "school", "showcase", "groups", "jobs", "feed", "posts", "pulse", "events", "search"):
        raise InvalidLinkedInIdentifier(f"a /{head}/ page, not a person's profile.")
    raise InvalidLinkedInIdentifier(f"/{segments[0]}/ is not a profile address (expected /in/<identifier>/).")


def canonical_profile_url(public_identifier: str) -> str:
    """The profile link for a slug, built by us (percent-encoded), or '' for a person known only by member id."""
    return f"https://www.linkedin.com/in/{quote(public_identifier, safe='-_.~')}/" if public_identifier else ""


def is_resolved_member_id(value: str) -> bool:
    """An ACo… member id, the form Unipile's write calls take. A Sales Navigator ACw… id or a slug is resolved
    through a profile lookup first (and stored in this form)."""
    return value.startswith("ACo")
