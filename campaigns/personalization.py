"""Message templates: {first_name}, {{firstName}}, {company}, custom fields, fallbacks {first_name|there}.

A template that cannot render for a lead is an error listed at activation and in the preview;
a message with a raw brace or an empty name is never produced.
"""

import hashlib
import re
from dataclasses import dataclass, field

INVITE_NOTE_LIMIT = 300

# {{ name }} or { name }, optionally with |fallback. The double form is matched first.
TOKEN_RE = re.compile(r"\{\{\s*([^{}|]*?)\s*(?:\|([^{}]*))?\}\}|\{\s*([^{}|]*?)\s*(?:\|([^{}]*))?\}")
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_ .-]*$")

# Every spelling operators use, folded to the lead attribute it means.
STANDARD_FIELDS = {
    "first_name": "first_name",
    "firstname": "first_name",
    "last_name": "last_name",
    "lastname": "last_name",
    "full_name": "full_name",
    "fullname": "full_name",
    "name": "full_name",
    "company": "company",
    "companyname": "company",
    "company_name": "company",
    "title": "title",
    "jobtitle": "title",
    "job_title": "title",
    "headline": "title",
}


def _fold(name: str) -> str:
    """firstName, first_name, First Name and first-name are one variable."""
    return re.sub(r"[\s\-]+", "_", name.strip()).replace("__", "_").lower()


def _standard(name: str) -> str | None:
    folded = _fold(name)
    return STANDARD_FIELDS.get(folded) or STANDARD_FIELDS.get(folded.replace("_", ""))


@dataclass(frozen=True)
class Token:
    raw: str
    name: str
    fallback: str | None


def parse_tokens(template: str) -> list[Token]:
    tokens = []
    for match in TOKEN_RE.finditer(template):
        name = match.group(1) if match.group(1) is not None else match.group(3)
        fallback = match.group(2) if match.group(1) is not None else match.group(4)
        tokens.append(Token(raw=match.group(0), name=name.strip(), fallback=fallback))
    return tokens


def template_problems(template: str, *, known_custom_fields: set[str] | None = None) -> list[str]:
    """Problems of the template itself, whatever the lead: bad syntax and unknown variables.

    known_custom_fields: the custom field names present on at least one lead of the campaign;
    None skips the unknown-variable check (no leads to judge by).
    """
    problems = []
    for token in parse_tokens(template):
        if not token.name or not NAME_RE.match(token.name):
            problems.append(f"{token.raw} is not a variable.")
        elif _standard(token.name) is None and known_custom_fields is not None:
            folded = {_fold(f) for f in known_custom_fields}
            if _fold(token.name) not in folded:
                problems.append(f"{token.raw}: unknown variable {token.name!r}.")
    leftover = TOKEN_RE.sub("", template)
    if "{" in leftover or "}" in leftover:
        problems.append("An unmatched { or } would be sent as it is.")
    return problems


def _lead_value(lead, name: str) -> str:
    attr = _standard(name)
    if attr is not None:
        return str(getattr(lead, attr, "") or "").strip()
    custom = lead.custom_fields or {}
    if name in custom:
        return str(custom[name] if custom[name] is not None else "").strip()
    folded = _fold(name)
    for key, value in custom.items():
        if _fold(key) == folded:
            return str(value if value is not None else "").strip()
    return ""


@dataclass
class Rendered:
    text: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def render(template: str, lead, *, invite_note: bool = False) -> Rendered:
    """Render for one lead. Never raises for bad data: problems are listed and text must not be sent."""
    problems = template_problems(template)
    if problems:
        return Rendered(problems=problems)

    def substitute(match: re.Match) -> str:
        token = parse_tokens(match.group(0))[0]
        value = _lead_value(lead, token.name)
        if value:
            return value
        if token.fallback is not None and token.fallback.strip():
            return token.fallback.strip()
        problems.append(f"{token.raw} has no value for this lead and no fallback.")
        return ""

    text = TOKEN_RE.sub(substitute, template).strip()
    if problems:
        return Rendered(problems=problems)
    if "{" in text or "}" in text:
        # A lead value that itself contains braces would look like a broken template to the person.
        return Rendered(problems=["The rendered text contains a brace; check the lead's fields."])
    if invite_note and len(text) > INVITE_NOTE_LIMIT:
        return Rendered(
            problems=[
                f"The invitation note is {len(text)} characters after rendering; LinkedIn allows {INVITE_NOTE_LIMIT}."
            ]
        )
    return Rendered(text=text)


def choose_variant(*, lead_id: int, step_id: int, has_variant_b: bool) -> str:
    """A or B, the same every time for a lead and step, about half each."""
    if not has_variant_b:
        return "A"
    digest = hashlib.sha256(f"{lead_id}:{step_id}".encode()).digest()
    return "B" if digest[0] & 1 else "A"


def static_length(template: str) -> int:
    """The shortest text the template can render to: its words, with each variable at its fallback (or empty)."""
    return len(TOKEN_RE.sub(lambda m: (m.group(2) or m.group(4) or "").strip(), template).strip())


def variables_without_fallback(template: str) -> list[str]:
    """Custom fields (not a lead's standard field) used without a fallback."""
    return [
        t.raw for t in parse_tokens(template) if t.name and _standard(t.name) is None and not (t.fallback or "").strip()
    ]
