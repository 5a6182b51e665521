"""Benchmark: preview and import a generated CSV of N rows into a fresh campaign, and print the figures.

Target (issue: foundation): 50,000 rows import in under 60 s on SQLite.
"""

import csv
import random
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from leads import importing
from leads.models import DoNotContact, Lead
from outreach.bench import FiguresMixin
from outreach.models import Client

TARGET_SECONDS_PER_50K = 60.0


class Command(FiguresMixin, BaseCommand):
    help = "Time the CSV lead import (preview and confirmed import) on generated data; cleans up after itself."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=50_000)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--keep", action="store_true", help="Keep the generated client, campaign and leads.")

    def handle(self, *args, rows, seed, keep, **options):
        if rows < 1:
            raise CommandError("--rows must be at least 1.")
        from campaigns.models import Campaign

        rng = random.Random(seed)
        client, _ = Client.objects.get_or_create(slug="bench-import", defaults={"name": "Benchmark: import"})
        self._clean(Campaign.objects.filter(client=client))  # leftovers of an interrupted run
        campaign = Campaign.objects.create(client=client, name=f"Bench import {time.time():.0f}")
        DoNotContact.objects.get_or_create(client=client, kind="domain", value="blocked.example")
        try:
            self._run(campaign, rows, rng)
        finally:
            if not keep:
                self._clean(Campaign.objects.filter(pk=campaign.pk))
                client.do_not_contact.all().delete()
                client.delete()

    def _clean(self, campaigns):
        leads = Lead.objects.filter(campaign__in=campaigns)
        while batch := list(leads.values_list("pk", flat=True)[:10_000]):  # a million leads: in slices
            with transaction.atomic():
                Lead.objects.filter(pk__in=batch).delete()
        campaigns.delete()

    def _run(self, campaign, rows, rng):

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "leads.csv"
            expected_new = self._write_csv(path, rows, rng)
            size_mb = path.stat().st_size / 1e6

            source = importing.open_csv(path)
            mapping = importing.Mapping(fields=importing.guess_mapping(source.headers), custom=["city", "industry"])

            started = time.perf_counter()
            preview = importing.preview_csv(campaign, source, mapping)
            preview_seconds = time.perf_counter() - started

            started = time.perf_counter()
            result = importing.import_csv(campaign, source, mapping)
            import_seconds = time.perf_counter() - started

        stored = Lead.objects.filter(campaign=campaign).count()
        if stored != result.created or result.created != expected_new:
            raise CommandError(
                f"Import is wrong: expected {expected_new} new, created {result.created}, stored {stored}."
            )
        target = TARGET_SECONDS_PER_50K * rows / 50_000
        self.stdout.write(f"database: {connection.vendor}   rows: {rows:,}   file: {size_mb:.1f} MB")
        self.stdout.write(
            f"preview: {preview_seconds:6.2f} s   ({rows / preview_seconds:,.0f} rows/s)   outcomes: "
            + ", ".join(f"{k} {v:,}" for k, v in preview.counts.items())
        )
        self.stdout.write(
            f"import:  {import_seconds:6.2f} s   ({rows / import_seconds:,.0f} rows/s)   created {result.created:,}   "
            f"target < {target:.0f} s   ratio {import_seconds / target:.2f}"
        )
        self.figure(
            f"CSV import, {rows:,} rows ({connection.vendor})",
            f"< {target:.0f} s",
            f"{import_seconds:.1f} s",
            import_seconds / target,
        )

    def _write_csv(self, path: Path, rows: int, rng: random.Random) -> int:
        """Mostly good rows, with the bad kinds a real file has: duplicates, invalid URLs, do-not-contact."""
        new, previous_was_new = 0, False
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(
                ["LinkedIn URL", "First Name", "Last Name", "Company", "Title", "Email", "city", "industry"]
            )
            for i in range(rows):
                kind = rng.random()
                slug = f"bench-person-{i}"
                email = f"p{i}@example.com"
                is_new = False
                if kind < 0.02 and previous_was_new:
                    slug = f"bench-person-{i - 1}"  # the same person as the row before
                elif kind < 0.04:
                    slug = "https://www.linkedin.com/company/not-a-person"
                elif kind < 0.05:
                    email = f"p{i}@blocked.example"
                else:
                    is_new = True
                new += is_new
                previous_was_new = is_new
                url = slug if slug.startswith("http") else f"https://www.linkedin.com/in/{slug}/"
                writer.writerow(
                    [url, f"First{i}", f"Last{i}", f"Company {i % 997}", "Head of Growth", email, "Paris", "SaaS"]
                )
        return new
