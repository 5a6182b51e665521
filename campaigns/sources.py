"""Lead sources: leads from a LinkedIn people search, a Sales Navigator search or lead list, or a post's engagers.

A source reads one page at a time (beat every 30 s picks the due ones), spaced and jittered like sends, inside
its account's daily read budget (RateUsage.reads: every person read counts). Each page goes through the CSV
import's checks (duplicate in this campaign, do-not-contact, active in another campaign, invalid); everyone found
is kept on the source with what became of them, so a re-run brings only new people. Rate limits pause the source,
never the account's sending.
"""

import datetime as dt
import random
import re
from collections import Counter
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.models import ActionKind, LinkedInAccount
from integrations.services import account_cool_down
from integrations.unipile import (
    AccountProblem,
    BadRequest,
    InvalidResponse,
    LimitReached,
    ProviderUnavailable,
    RateLimited,
    UnipileClient,
    UnipileError,
)
from leads.importing import Outcome, classify, import_records
from leads.models import Lead

from .engine import limits
from .engine.calendar import WorkCalendar
from .models import Campaign, LeadSource, LeadSourcePerson

PAGE_SIZE = 50
FIRST_DEGREE = "first_degree"
EXPECTED = (
    "a LinkedIn people search (linkedin.com/search/results/people/…), a Sales Navigator search "
    "(linkedin.com/sales/search/people…) or lead list (linkedin.com/sales/lists/people/…), or a post "
    "(linkedin.com/posts/… or linkedin.com/feed/update/urn:li:activity:…)"
)
_ACTIVITY = re.compile(r"(?:activity[-:])(\d{10,25})")
_TRACKING = {"origin", "sid", "trk", "lipi", "trackingId", "_ntb", "viewAllFilters"}


class SourceRefused(Exception):
    """The source cannot be added or changed: `field` is the input at fault, the message says why."""

    def __init__(self, message: str, field: str = "url"):
        super().__init__(message)
        self.field = field


def parse_source_url(url: str, *, engagers: str = "reactions") -> tuple[str, str]:
    """(kind, key) for a LinkedIn URL, or SourceRefused naming what was expected."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not (host == "linkedin.com" or host.endswith(".linkedin.com")):
        raise SourceRefused(f"Not a LinkedIn URL: paste {EXPECTED}.")
    path = parts.path.rstrip("/")
    query = sorted((k, v) for k, v in parse_qsl(parts.query) if k not in _TRACKING and k != "page")
    if path.startswith("/search/results/people"):
        return LeadSource.Kind.SEARCH, f"search:{urlencode(query)}"
    if path.startswith("/sales/search/people"):
        return LeadSource.Kind.SALES_NAVIGATOR_SEARCH, f"sn-search:{urlencode(query)}"
    if match := re.match(r"^/sales/lists/people/([\w-]+)", path):
        return LeadSource.Kind.SALES_NAVIGATOR_LIST, f"sn-list:{match.group(1)}"
    if path.startswith(("/posts/", "/feed/update/")) and (match := _ACTIVITY.search(path)):
        if engagers not in ("reactions", "comments"):
            raise SourceRefused("Choose reactions or comments for a post.", field="engagers")
        kind = LeadSource.Kind.POST_COMMENTS if engagers == "comments" else LeadSource.Kind.POST_REACTIONS
        return kind, f"post:{match.group(1)}:{engagers}"
    raise SourceRefused(f"This LinkedIn page is not a list of people: paste {EXPECTED}.")


def lead_source_check(
    *, campaign: Campaign, account: LinkedInAccount, url: str, engagers: str, max_leads: int, first_degree: str
) -> tuple[str, str]:
    """(kind, key) of a source that may be added, or SourceRefused naming the field: the one set of rules the
    admin's form, the API and the service share."""
    kind, key = parse_source_url(url, engagers=engagers)
    if account.client_id != campaign.client_id:
        raise SourceRefused(f"{account} is not an account of {campaign.client}.", field="account")
    if kind in LeadSource.SALES_NAVIGATOR_KINDS and account.kind != LinkedInAccount.Kind.SALES_NAVIGATOR:
        raise SourceRefused(
            f"{account} has no Sales Navigator ({account.get_kind_display()}): pick an account with Sales Navigator "
            "for a Sales Navigator search or list.",
            field="account",
        )
    limit = campaign.client.max_leads_per_source
    if not 1 <= (max_leads or 0) <= limit:
        raise SourceRefused(f"Between 1 and {limit} leads (the limit of {campaign.client}).", field="max_leads")
    if first_degree not in LeadSource.FirstDegree.values:
        raise SourceRefused("Skip or import 1st-degree connections.", field="first_degree")
    existing = LeadSource.objects.filter(campaign=campaign, key=key).first()
    if existing is not None:
        hint = "re-run it to pick up new people" if existing.status not in LeadSource.OPEN_STATUSES else "it is running"
        raise SourceRefused(
            f"This campaign already reads this {existing.get_kind_display().lower()} (source {existing.pk}): {hint}."
        )
    return kind, key


@transaction.atomic
def lead_source_create(
    *,
    campaign: Campaign,
    account: LinkedInAccount,
    url: str,
    engagers: str = "reactions",
    max_leads: int = 500,
    first_degree: str = LeadSource.FirstDegree.SKIP,
    working_hours_only: bool = False,
    user=None,
) -> LeadSource:
    kind, key = lead_source_check(
        campaign=campaign, account=account, url=url, engagers=engagers, max_leads=max_leads, first_degree=first_degree
    )
    source = LeadSource.objects.create(
        campaign=campaign, account=account, kind=kind, url=url.strip(), key=key, max_leads=max_leads,
        first_degree=first_degree, working_hours_only=working_hours_only,
        created_by=user if user is not None and user.is_authenticated else None,
    )  # fmt: skip
    _kick()
    return source


def _kick():
    from .tasks import run_lead_sources

    transaction.on_commit(run_lead_sources.delay)


def _set(source: LeadSource, **fields) -> None:
    LeadSource.objects.filter(pk=source.pk).update(**fields)
    for name, value in fields.items():
        setattr(source, name, value)


def lead_source_pause(*, source: LeadSource, reason: str = "paused by an operator") -> LeadSource:
    if source.status != LeadSource.Status.RUNNING:
        raise SourceRefused(f"The source is {source.get_status_display().lower()}, not running.", field="status")
    _set(source, status=LeadSource.Status.PAUSED, stop_reason=reason)
    return source


def lead_source_resume(*, source: LeadSource) -> LeadSource:
    if source.status != LeadSource.Status.PAUSED:
        raise SourceRefused(f"The source is {source.get_status_display().lower()}, not paused.", field="status")
    _set(source, status=LeadSource.Status.RUNNING, stop_reason="", next_run_at=timezone.now())
    _kick()
    return source


def lead_source_cancel(*, source: LeadSource) -> LeadSource:
    if source.status not in LeadSource.OPEN_STATUSES:
        raise SourceRefused(f"The source is {source.get_status_display().lower()} already.", field="status")
    _set(source, status=LeadSource.Status.CANCELLED, stop_reason="cancelled by an operator",
         finished_at=timezone.now())  # fmt: skip
    return source


def lead_source_rerun(*, source: LeadSource) -> LeadSource:
    """From the first page again: the people already found are skipped, so only new ones come in."""
    if source.status in LeadSource.OPEN_STATUSES:
        raise SourceRefused("The source is still open: pause or cancel it first, or let it finish.", field="status")
    _set(source, status=LeadSource.Status.RUNNING, stop_reason="", cursor="", next_run_at=timezone.now(),
         finished_at=None, runs=source.runs + 1)  # fmt: skip
    _kick()
    return source


# --- reading a page ---------------------------------------------------------------------------------------


def _next_page_at(now: dt.datetime) -> dt.datetime:
    low, high = settings.LEAD_SOURCE_PAGE_SECONDS
    return now + dt.timedelta(seconds=random.uniform(low, max(low, high)))


def _stop(source: LeadSource, status: str, reason: str, now: dt.datetime) -> None:
    _set(source, status=status, stop_reason=reason[:300], finished_at=now)


def _fetch(provider: UnipileClient, source: LeadSource, size: int):
    account_id = source.account.unipile_account_id
    if source.kind in (LeadSource.Kind.POST_REACTIONS, LeadSource.Kind.POST_COMMENTS):
        post_id = source.key.split(":")[1]
        kind = "comments" if source.kind == LeadSource.Kind.POST_COMMENTS else "reactions"
        return provider.post_engagers(
            account_id=account_id, post_id=post_id, kind=kind, cursor=source.cursor, limit=size
        )
    api = "classic" if source.kind == LeadSource.Kind.SEARCH else "sales_navigator"
    return provider.search_people(account_id=account_id, api=api, url=source.url, cursor=source.cursor, limit=size)


def lead_source_run(*, source_id: int, now: dt.datetime | None = None, provider: UnipileClient | None = None) -> str:
    """Read and import one page of a due source; what happened, in words (the admin and the command show it)."""
    now = now or timezone.now()
    with transaction.atomic():
        source = (
            LeadSource.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("campaign__client", "account__client")
            .filter(pk=source_id, status=LeadSource.Status.RUNNING, next_run_at__lte=now)
            .first()
        )
        if source is None:
            return "not due"
        account = LinkedInAccount.objects.select_for_update().get(pk=source.account_id)
        if not account.can_work:
            _set(source, status=LeadSource.Status.PAUSED,
                 stop_reason=f"{account} cannot read now: {account.paused_reason or account.get_status_display()}")  # fmt: skip
            return source.stop_reason
        if account.is_cooling_down(now):
            _set(source, next_run_at=account.cooldown_until)
            return f"{account} is cooling down after a rate limit: next page at {account.cooldown_until:%H:%M} UTC"
        if source.working_hours_only:
            calendar = WorkCalendar.for_campaign(source.campaign)
            if not calendar.is_working_time(now):
                _set(source, next_run_at=calendar.next_working_moment(now))
                return f"outside working hours: next page at {source.next_run_at:%Y-%m-%d %H:%M} UTC"
        day = account.today(now)
        wanted = min(PAGE_SIZE, source.max_leads - source.imported)
        granted = limits.reserve_up_to(account, ActionKind.READ, day, wanted)
        if not granted:
            tomorrow = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(8), tzinfo=account.calendar_tz)
            _set(source, next_run_at=_next_page_at(tomorrow),
                 stop_reason=f"the read budget of {account} for today is spent ({account.read_limit}): continues tomorrow")  # fmt: skip
            return source.stop_reason
        _set(source, next_run_at=_next_page_at(now), stop_reason="")
    try:
        page = _fetch(provider or UnipileClient.from_settings(), source, granted)
    except RateLimited as exc:
        # A 429 is about the account, whatever the call: it sends nothing either until the cool-down ends.
        limits.refund_many(account.pk, ActionKind.READ, day, granted)
        until = account_cool_down(account=account, now=max(now, timezone.now()), retry_after=exc.retry_after)
        _set(source, status=LeadSource.Status.PAUSED,
             stop_reason=f"LinkedIn limit ({exc}): paused, and {account} cools down until {until:%H:%M} UTC; resume it later")  # fmt: skip
        return source.stop_reason
    except LimitReached as exc:
        limits.refund_many(account.pk, ActionKind.READ, day, granted)
        _set(source, status=LeadSource.Status.PAUSED, stop_reason=f"LinkedIn limit ({exc}): paused; resume it later")
        return source.stop_reason
    except AccountProblem as exc:
        limits.refund_many(account.pk, ActionKind.READ, day, granted)
        _set(source, status=LeadSource.Status.PAUSED, stop_reason=f"{account} cannot read: {exc}")
        return source.stop_reason
    except BadRequest as exc:
        limits.refund_many(account.pk, ActionKind.READ, day, granted)
        _stop(source, LeadSource.Status.FAILED, f"LinkedIn refused: {exc}", now)
        return source.stop_reason
    except (ProviderUnavailable, InvalidResponse, UnipileError, ValueError) as exc:
        limits.refund_many(account.pk, ActionKind.READ, day, granted)
        _set(source, stop_reason=f"Unipile did not answer ({exc}): trying again at {source.next_run_at:%H:%M} UTC")
        return source.stop_reason
    limits.refund_many(account.pk, ActionKind.READ, day, granted - len(page.people))
    return _import_page(source, page, now)


def _import_page(source: LeadSource, page, now: dt.datetime | None) -> str:
    now = now or timezone.now()
    campaign = source.campaign
    with transaction.atomic():
        seen = set(
            LeadSourcePerson.objects.filter(
                source=source, provider_id__in=[p.provider_id for p in page.people]
            ).values_list("provider_id", flat=True)
        )
        fresh = [p for p in page.people if p.provider_id not in seen]
        people, records = [], []
        for person in fresh:
            if person.is_first_degree and source.first_degree == LeadSource.FirstDegree.SKIP:
                people.append((person, FIRST_DEGREE, "A 1st-degree connection (skipped, as chosen)."))
                continue
            records.append((len(records) + 1, {
                "linkedin": person.public_identifier or person.provider_id, "provider_id": person.provider_id,
                "first_name": person.first_name[:100], "last_name": person.last_name[:100],
                "company": person.company[:200], "title": person.title[:200], "source_id": source.pk,
                "custom_fields": {"headline": person.headline[:300], "location": person.location[:100],
                                  "network_distance": person.network_distance},
            }))  # fmt: skip
        results = list(classify(campaign, records))
        by_line = {r.line: r for r in results}
        summary = import_records(campaign, results)
        record_people = [p for p in fresh if not (p.is_first_degree and source.first_degree == "skip")]
        for (line, _record), person in zip(records, record_people, strict=True):
            result = by_line[line]
            people.append((person, result.outcome, result.reason))
        leads = dict(
            Lead.objects.filter(
                campaign=campaign, source=source, provider_id__in=[p.provider_id for p, *_ in people]
            ).values_list("provider_id", "pk")
        )
        LeadSourcePerson.objects.bulk_create(
            [
                LeadSourcePerson(
                    source=source, provider_id=p.provider_id, name=f"{p.first_name} {p.last_name}".strip()[:200],
                    outcome=outcome, reason=reason[:300], lead_id=leads.get(p.provider_id) if outcome == Outcome.NEW else None,
                    found_at=now,
                )
                for p, outcome, reason in people
            ],
            ignore_conflicts=True,
        )  # fmt: skip
        skipped = Counter(source.skipped)
        skipped.update(outcome for _p, outcome, _r in people if outcome != Outcome.NEW)
        imported = source.imported + summary.created
        fields = {
            "pages_read": source.pages_read + 1, "found": source.found + len(fresh), "imported": imported,
            "skipped": dict(skipped), "cursor": page.cursor,
        }  # fmt: skip
        if imported >= source.max_leads:
            fields.update(status=LeadSource.Status.FINISHED, stop_reason=f"reached the maximum of {source.max_leads} leads",
                          finished_at=now)  # fmt: skip
        elif not page.cursor:
            what = "no results" if source.found + len(fresh) == 0 and not seen else "end of the results"
            fields.update(status=LeadSource.Status.FINISHED, stop_reason=what, finished_at=now)
        _set(source, **fields)
    return f"page {source.pages_read}: {len(fresh)} found, {summary.created} imported"


def due_sources(now: dt.datetime, limit: int = 50) -> list[int]:
    return list(
        LeadSource.objects.filter(status=LeadSource.Status.RUNNING, next_run_at__lte=now)
        .order_by("next_run_at")
        .values_list("pk", flat=True)[:limit]
    )
