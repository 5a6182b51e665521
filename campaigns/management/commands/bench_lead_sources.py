"""A lead source's own cost per page: classifying 100 people (duplicates, do-not-contact, other campaigns of the
client) and inserting the new ones, in a client with a million leads (bench_engine's data, built if missing).

    manage.py bench_lead_sources --leads 1000000 --pages 20
"""

import statistics
import time

from django.core.management import load_command_class
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from campaigns.models import Campaign, LeadSource
from campaigns.sources import _import_page
from integrations.unipile import PeoplePage, Person
from leads.models import Lead
from outreach.bench import FiguresMixin, counting_queries

PAGE = 100
TARGET_MS = 200


class Command(FiguresMixin, BaseCommand):
    help = "Per-page cost of a LinkedIn lead source (classification + insert of 100 people) among a million leads."

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=1_000_000)
        parser.add_argument("--accounts", type=int, default=1_000)
        parser.add_argument("--pages", type=int, default=20)

    def handle(self, *args, leads, accounts, pages, **options):
        if leads < 1 or pages < 1:
            raise CommandError("--leads and --pages must be positive.")
        engine = load_command_class("campaigns", "bench_engine")
        engine.stdout, engine.stderr = self.stdout, self.stderr
        client = engine._build(leads, accounts, False)
        known = list(
            Lead.objects.filter(campaign__client=client)
            .exclude(public_identifier="")
            .values_list("public_identifier", flat=True)[:5000]
        )
        campaign = Campaign.objects.create(client=client, name="Bench: lead source", timezone="UTC")
        source = LeadSource.objects.create(
            campaign=campaign, account=campaign.client.linkedin_accounts.first(), kind="search",
            url="https://www.linkedin.com/search/results/people/?keywords=bench", key="search:bench", max_leads=10**6,
        )  # fmt: skip
        timings, queries = [], []
        try:
            for page in range(pages):
                people = [self._person(page, n, known) for n in range(PAGE)]
                source.refresh_from_db()
                with counting_queries() as counter:
                    started = time.perf_counter()
                    _import_page(source, PeoplePage(people=people, cursor="more"), now=None)
                    timings.append(time.perf_counter() - started)
                queries.append(len(counter))
            source.refresh_from_db()
        finally:
            with transaction.atomic():
                Lead.objects.filter(campaign=campaign).delete()
                campaign.delete()
        p50, p95 = statistics.median(timings), sorted(timings)[min(len(timings) - 1, int(len(timings) * 0.95))]
        self.stdout.write(
            f"{pages} pages of {PAGE} people among {leads:,} leads: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
            f"{max(queries)} queries at most; imported {source.imported}, skipped {source.skipped}"
        )
        self.figure(
            f"lead source page of {PAGE} people, {leads:,} leads", f"< {TARGET_MS} ms",
            f"p95 {p95 * 1000:.0f} ms, {max(queries)} queries", p95 * 1000 / TARGET_MS,
        )  # fmt: skip

    @staticmethod
    def _person(page: int, n: int, known: list[str]) -> Person:
        # One in five is already a lead of another campaign of the client; the rest are new people.
        public_identifier = known[(page * PAGE + n) % len(known)] if known and n % 5 == 0 else ""
        return Person(
            provider_id=f"ACoAABenchSrc{page:04d}{n:04d}", public_identifier=public_identifier, first_name="Bench", last_name=f"{page}-{n}",
            headline="CTO at Bench", location="Paris", network_distance="SECOND_DEGREE", company="Bench", title="CTO",
        )  # fmt: skip
