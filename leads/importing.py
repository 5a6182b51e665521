"""Lead import from CSV (and, for the API, from lists of dicts).

Rows are read as a stream and classified in batches: each batch costs a few indexed queries,
so memory and time grow with the file, not with the number of leads already stored.
A confirmed import runs in one transaction: a failure leaves nothing half-imported.
"""

import codecs
import csv
import secrets
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from integrations import outbound
from integrations.models import WebhookEndpoint
from outreach.unstorable import unstorable_in

from .dnc import DncMatcher
from .linkedin import InvalidLinkedInIdentifier, canonical_profile_url, is_resolved_member_id, normalize_linkedin
from .models import ACTIVE_STATUSES, Lead, LeadStatus

BATCH_SIZE = 1000
SNIFF_BYTES = 64 * 1024

# field -> (label, max length, header spellings we recognise)
TARGET_FIELDS: dict[str, tuple[str, int, tuple[str, ...]]] = {
    "linkedin": (
        "LinkedIn URL or identifier",
        500,
        (
            "linkedin",
            "linkedin url",
            "profile url",
            "url",
            "profile",
            "linkedin profile",
            "public identifier",
            "provider id",
        ),
    ),
    "first_name": ("First name", 100, ("first name", "firstname", "first", "given name")),
    "last_name": ("Last name", 100, ("last name", "lastname", "last", "surname", "family name")),
    "company": ("Company", 200, ("company", "company name", "companyname", "organization", "organisation", "account")),
    "title": ("Title", 300, ("title", "job title", "jobtitle", "position", "headline", "role")),
    "email": ("Email", 254, ("email", "e-mail", "email address", "mail")),
}
# Statuses in another campaign that make a person "taken" for this client.
TAKEN_STATUSES = ACTIVE_STATUSES | {LeadStatus.PAUSED, LeadStatus.ERROR, LeadStatus.REPLIED}


class LeadImportError(Exception):
    """The file as a whole cannot be imported (encoding, no header, missing mapping); the message says why."""


class Outcome(models.TextChoices):
    NEW = "new", "New lead"
    DUPLICATE_IN_FILE = "duplicate_in_file", "Duplicate row in this file"
    DUPLICATE = "duplicate", "Already in this campaign"
    DO_NOT_CONTACT = "do_not_contact", "On the do-not-contact list"
    OTHER_CAMPAIGN = "other_campaign", "Active in another campaign"
    INVALID = "invalid", "Invalid row"


@dataclass
class RowResult:
    line: int
    outcome: str
    reason: str = ""
    identifier: str = ""
    name: str = ""
    lead: Lead | None = None

    @property
    def outcome_label(self) -> str:
        return Outcome(self.outcome).label


@dataclass
class ImportSummary:
    counts: Counter = field(default_factory=Counter)
    rows: list[RowResult] = field(default_factory=list)
    total: int = 0
    created: int = 0

    def as_dict(self) -> dict:
        return {
            "total": self.total,
            "created": self.created,
            "counts": {o: self.counts.get(o, 0) for o in Outcome.values},
        }


# --- Reading CSV ----------------------------------------------------------------------------


def detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sample's end is still UTF-8.
        if exc.start >= len(head) - 3:
            return "utf-8"
        return "cp1252" if any(0x80 <= b <= 0x9F for b in head) else "latin-1"


@dataclass
class CsvSource:
    path: Path
    encoding: str
    delimiter: str
    headers: list[str]

    def rows(self) -> Iterator[tuple[int, dict[str, str]]]:
        """(line number, row) pairs; the header is line 1."""
        with open(self.path, encoding=self.encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=self.delimiter)
            next(reader, None)
            for number, values in enumerate(reader, start=2):
                if not any(v.strip() for v in values):
                    continue
                yield number, {h: (values[i] if i < len(values) else "") for i, h in enumerate(self.headers)}


def open_csv(path: Path) -> CsvSource:
    with open(path, "rb") as handle:
        head = handle.read(SNIFF_BYTES)
    if not head.strip():
        raise LeadImportError("The file is empty.")
    encoding = detect_encoding(head)
    try:
        sample = head.decode(encoding, errors="ignore" if encoding == "utf-8" else "strict")
    except UnicodeDecodeError:
        raise LeadImportError("The file is not text in a known encoding (UTF-8, UTF-16 or Latin-1).") from None
    if "\x00" in sample:
        raise LeadImportError("The file is not a CSV file (it contains binary data).")
    first_line = sample.lstrip("\ufeff").splitlines()[0] if sample.strip() else ""
    try:
        delimiter = csv.Sniffer().sniff(first_line, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    try:
        with open(path, encoding=encoding, newline="") as handle:
            headers = [h.strip().lstrip("\ufeff") for h in next(csv.reader(handle, delimiter=delimiter), [])]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise LeadImportError(f"The file cannot be read as CSV: {exc}") from None
    if not any(headers):
        raise LeadImportError("The first line must name the columns.")
    if len(set(headers)) != len(headers):
        duplicates = sorted({h for h in headers if headers.count(h) > 1})
        raise LeadImportError(f"Column names must be unique; repeated: {', '.join(duplicates)}.")
    return CsvSource(path=path, encoding=encoding, delimiter=delimiter, headers=headers)


def guess_mapping(headers: list[str]) -> dict[str, str]:
    """field -> header, from common spellings."""
    normalized = {h.strip().lower().replace("_", " "): h for h in headers}
    mapping = {}
    for name, (_label, _max, spellings) in TARGET_FIELDS.items():
        for spelling in spellings:
            if spelling in normalized and normalized[spelling] not in mapping.values():
                mapping[name] = normalized[spelling]
                break
    return mapping


@dataclass
class Mapping:
    fields: dict[str, str]  # field -> header
    custom: list[str]  # headers kept as custom fields

    def __post_init__(self):
        if not self.fields.get("linkedin"):
            raise LeadImportError("Map a column to 'LinkedIn URL or identifier': every lead needs one.")

    def record(self, row: dict[str, str]) -> dict:
        record = {name: (row.get(header) or "").strip() for name, header in self.fields.items() if header}
        custom = {header: row[header].strip() for header in self.custom if (row.get(header) or "").strip()}
        if custom:
            record["custom_fields"] = custom
        return record


# --- Classifying ----------------------------------------------------------------------------


def _build_lead(campaign, record: dict) -> tuple[Lead | None, str]:
    """A Lead (unsaved) from one record, or the reason it is invalid."""
    raw_identifier = record.get("linkedin", "")
    if not raw_identifier:
        return None, "No LinkedIn URL or identifier."
    try:
        ident = normalize_linkedin(raw_identifier)
    except InvalidLinkedInIdentifier as exc:
        return None, f"Invalid LinkedIn URL: {exc}"
    for name, (label, max_length, _s) in TARGET_FIELDS.items():
        if name != "linkedin" and len(record.get(name, "")) > max_length:
            return None, f"{label} is longer than {max_length} characters."
        problem = unstorable_in(record.get(name, "") if isinstance(record.get(name, ""), str) else "")
        if problem:
            return None, f"{label} contains {problem}, which cannot be stored."
    custom_fields = record.get("custom_fields")
    if isinstance(custom_fields, dict):
        for key, value in custom_fields.items():
            problem = unstorable_in(str(key)) or unstorable_in(value if isinstance(value, str) else "")
            if problem:
                return None, f"Custom field {str(key)[:40]!r} contains {problem}, which cannot be stored."
    email = record.get("email", "")
    if email:
        try:
            validate_email(email)
        except ValidationError:
            return None, f"Email {email!r} is not a valid address."
    custom = record.get("custom_fields") or {}
    if not isinstance(custom, dict):
        return None, "custom_fields must be an object."
    # Rebuilt from the parsed identifier, never stored as typed: a typed URL can carry another host in its
    # user-info part (https://evil.example\\@www.linkedin.com/in/x/) that browsers would open.
    url = canonical_profile_url(ident.public_identifier)
    lead = Lead(
        campaign=campaign,
        first_name=record.get("first_name", ""),
        last_name=record.get("last_name", ""),
        company=record.get("company", ""),
        title=record.get("title", ""),
        email=email.lower(),
        linkedin_url=url,
        public_identifier=ident.public_identifier,
        # A lead source knows the member id already (no profile lookup before the invitation).
        provider_id=ident.provider_id or _member_id(record.get("provider_id", "")),
        custom_fields=custom,
        source_id=record.get("source_id"),
    )
    return lead, ""


def _member_id(value) -> str:
    return value if isinstance(value, str) and is_resolved_member_id(value) else ""


def _taken(campaign, leads: list[Lead]) -> tuple[set[str], dict[str, str]]:
    """Identifiers of this batch already in the campaign, and those taken by another campaign of the client."""
    public_ids = {lead.public_identifier for lead in leads if lead.public_identifier}
    provider_ids = {lead.provider_id for lead in leads if lead.provider_id}
    if not public_ids and not provider_ids:
        return set(), {}
    # The client's campaigns by id, not a join: with a join PostgreSQL misjudges how many campaigns a client has
    # and scans the identifier indexes once per campaign (1.3 s for 100 people among a million leads, 40 ms so).
    names = dict(type(campaign).objects.filter(client_id=campaign.client_id).values_list("pk", "name"))
    matching = Lead.objects.filter(campaign_id__in=list(names)).filter(
        Q(public_identifier__in=public_ids) | Q(provider_id__in=provider_ids)
    )
    here, elsewhere = set(), {}
    for public_id, provider_id, campaign_id, status in matching.values_list(
        "public_identifier", "provider_id", "campaign_id", "status"
    ):
        campaign_name = names[campaign_id]
        keys = {k for k in (public_id, provider_id) if k}
        if campaign_id == campaign.pk:
            here |= keys
        elif status in TAKEN_STATUSES:
            for key in keys:
                elsewhere[key] = f"{LeadStatus(status).label.lower()} in campaign {campaign_name!r}"
    return here, elsewhere


def classify(campaign, records: Iterable[tuple[int, dict]]) -> Iterator[RowResult]:
    """What importing each record would do, in order. Records are (line, dict with TARGET_FIELDS keys)."""
    dnc = DncMatcher(campaign.client)
    seen: set[str] = set()
    batch: list[tuple[int, dict]] = []

    def flush() -> Iterator[RowResult]:
        built = [(line, record, *_build_lead(campaign, record)) for line, record in batch]
        here, elsewhere = _taken(campaign, [lead for _line, _record, lead, _r in built if lead])
        for line, record, lead, invalid in built:
            if lead is None:
                name = f"{record.get('first_name', '')} {record.get('last_name', '')}".strip()
                yield RowResult(line=line, outcome=Outcome.INVALID, reason=invalid, name=name)
                continue
            keys = [k for k in (lead.provider_id, lead.public_identifier) if k]
            result = RowResult(line=line, outcome=Outcome.NEW, identifier=keys[0], name=lead.full_name, lead=lead)
            if any(k in seen for k in keys):
                result.outcome, result.reason = (
                    Outcome.DUPLICATE_IN_FILE,
                    "The same person appears earlier in the file.",
                )
            elif any(k in here for k in keys):
                result.outcome, result.reason = Outcome.DUPLICATE, "Already a lead of this campaign."
            elif reason := dnc.match(
                provider_id=lead.provider_id, public_identifier=lead.public_identifier, email=lead.email
            ):
                result.outcome, result.reason = Outcome.DO_NOT_CONTACT, f"On the do-not-contact list ({reason})."
            elif taken := next((elsewhere[k] for k in keys if k in elsewhere), None):
                result.outcome, result.reason = Outcome.OTHER_CAMPAIGN, f"Already {taken}."
            if result.outcome != Outcome.NEW:
                result.lead = None
            seen.update(keys)
            yield result

    for item in records:
        batch.append(item)
        if len(batch) >= BATCH_SIZE:
            yield from flush()
            batch = []
    if batch:
        yield from flush()


def summarize(results: Iterable[RowResult], *, keep_rows: int) -> ImportSummary:
    summary = ImportSummary()
    for result in results:
        summary.total += 1
        summary.counts[result.outcome] += 1
        if len(summary.rows) < keep_rows:
            result.lead = None
            summary.rows.append(result)
    return summary


def lead_payload_of(lead: Lead) -> dict:
    """A lead as outbound webhooks show it (ids become strings on the way out)."""
    return {
        "id": lead.pk, "campaign_id": lead.campaign_id, "status": lead.status, "first_name": lead.first_name,
        "last_name": lead.last_name, "company": lead.company, "title": lead.title, "email": lead.email,
        "linkedin_url": lead.linkedin_url, "public_identifier": lead.public_identifier,
    }  # fmt: skip


@transaction.atomic
def import_records(campaign, results: Iterable[RowResult], *, keep_rows: int = 0) -> ImportSummary:
    """Create the NEW leads among classified results, in batches, all or nothing."""
    summary = ImportSummary()
    pending: list[Lead] = []
    # Subscribers of lead.imported get one event per new lead, written with the leads (read once per import).
    subscribers = [
        e
        for e in WebhookEndpoint.objects.filter(client_id=campaign.client_id, enabled=True)
        if e.wants("lead.imported")
    ]

    def create(batch: list[Lead]) -> None:
        created = Lead.objects.bulk_create(batch)
        summary.created += len(batch)
        for lead in created if subscribers else ():
            lead.campaign = campaign
            outbound.emit(
                client_id=campaign.client_id,
                type="lead.imported",
                data={"lead": lead_payload_of(lead)},
                lead_id=lead.pk,
                endpoints=subscribers,
            )

    for result in results:
        summary.total += 1
        summary.counts[result.outcome] += 1
        if result.outcome == Outcome.NEW:
            pending.append(result.lead)
            if len(pending) >= BATCH_SIZE:
                create(pending)
                pending = []
        if len(summary.rows) < keep_rows:
            summary.rows.append(result)
    if pending:
        create(pending)
    if campaign.status == "active":
        # Leads added to a running campaign are due now; the planner picks them up.
        Lead.objects.filter(campaign=campaign, status=LeadStatus.PENDING, next_action_at__isnull=True).update(
            next_action_at=timezone.now()
        )
    for result in summary.rows:
        result.lead = None
    return summary


def csv_records(source: CsvSource, mapping: Mapping) -> Iterator[tuple[int, dict]]:
    for line, row in source.rows():
        yield line, mapping.record(row)


def preview_csv(campaign, source: CsvSource, mapping: Mapping, *, keep_rows: int = 200) -> ImportSummary:
    return summarize(classify(campaign, csv_records(source, mapping)), keep_rows=keep_rows)


def import_csv(campaign, source: CsvSource, mapping: Mapping, *, keep_rows: int = 0) -> ImportSummary:
    try:
        return import_records(campaign, classify(campaign, csv_records(source, mapping)), keep_rows=keep_rows)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise LeadImportError(f"The file could not be read to the end ({exc}); nothing was imported.") from None


def save_upload(upload, directory: Path, max_bytes: int) -> Path:
    """Store an uploaded file under a random name for the preview and confirm steps."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{secrets.token_urlsafe(16)}.csv"
    written = 0
    with open(path, "wb") as handle:
        for chunk in upload.chunks():
            written += len(chunk)
            if written > max_bytes:
                handle.close()
                path.unlink(missing_ok=True)
                raise LeadImportError(f"The file is larger than {max_bytes // (1024 * 1024)} MB.")
            handle.write(chunk)
    return path
