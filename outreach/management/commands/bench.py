"""Every benchmark of the project, one after the other, and one table of their figures at the end.

Each benchmark builds its own data the first time and reuses it afterwards. `make bench` runs this on
PostgreSQL and Redis as CI has them; --quick runs every benchmark on small data (for a smoke test).
"""

import time

from django.core.management import call_command, load_command_class
from django.core.management.base import BaseCommand, CommandError

from outreach.bench import Figure

FULL = [
    ("leads", "bench_import", {"rows": 50_000}),
    ("leads", "bench_import", {"rows": 1_000_000}),  # a million-line file: imported whole and checked
    ("campaigns", "bench_engine", {"leads": 1_000_000, "accounts": 1_000, "due": 1_000}),
    ("integrations", "bench_webhooks", {"requests": 3000, "concurrency": 8, "rounds": 3}),
    ("inbox", "bench_inbox", {"conversations": 100_000, "messages": 1_000_000, "requests": 60}),
    ("reports", "bench_reports", {"events": 5_000_000, "runs": 15}),
    ("outreach", "bench_api", {"requests": 500, "rounds": 5}),
    ("integrations", "bench_outbound", {"events": 5000, "rate": 200, "seconds": 15}),
    ("campaigns", "bench_lead_sources", {"leads": 1_000_000, "accounts": 1_000, "pages": 20}),
]
QUICK = [
    ("leads", "bench_import", {"rows": 500}),
    ("campaigns", "bench_engine", {"leads": 2_000, "accounts": 20, "due": 100}),
    ("integrations", "bench_webhooks", {"requests": 100, "concurrency": 2, "rounds": 1, "server": "threaded"}),
    ("inbox", "bench_inbox", {"conversations": 200, "messages": 600, "requests": 5}),
    ("reports", "bench_reports", {"events": 5_000, "runs": 3}),
    ("outreach", "bench_api", {"requests": 20, "rounds": 1}),
    ("integrations", "bench_outbound", {"events": 50, "rate": 20, "seconds": 1}),
    ("campaigns", "bench_lead_sources", {"leads": 2_000, "accounts": 20, "pages": 3}),
]


class Command(BaseCommand):
    help = "Run every benchmark and print one table: figure, target, measured, ratio (share of the budget used)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--quick", action="store_true", help="Small data: checks the benchmarks run, not the targets."
        )
        parser.add_argument("--only", action="append", default=[], help="Run only these benchmarks (bench_inbox...).")

    def handle(self, *args, quick=False, only=(), **options):
        plan = QUICK if quick else FULL
        names = {name for _app, name, _kw in plan}
        unknown = set(only) - names
        if unknown:
            raise CommandError(
                f"--only: unknown benchmark(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(names))}."
            )
        figures, started = [], time.perf_counter()
        for app, name, kwargs in plan:
            if only and name not in only:
                continue
            self.stdout.write(
                self.style.MIGRATE_HEADING(f"\n== {name} {' '.join(f'--{k}={v}' for k, v in kwargs.items())}")
            )
            command = load_command_class(app, name)
            try:
                call_command(command, stdout=self.stdout, stderr=self.stderr, **kwargs)
            except Exception as exc:  # one benchmark's failure is reported; the others still run
                self.stderr.write(f"{name} failed: {exc}")
                figures.append(Figure(f"{name} (did not finish)", "runs to the end", f"failed: {exc}"[:60], 2.0))
            figures.extend(getattr(command, "figures", []))
        self.stdout.write(self.style.MIGRATE_HEADING(f"\nAll benchmarks ({time.perf_counter() - started:.0f} s):"))
        widths = (
            max(len(f.name) for f in figures) if figures else 10,
            max(len(f.target) for f in figures) if figures else 10,
            max(len(f.measured) for f in figures) if figures else 10,
        )
        self.stdout.write(f"{'figure':<{widths[0]}}  {'target':<{widths[1]}}  {'measured':<{widths[2]}}  ratio")
        for f in figures:
            ratio = f"{f.ratio:.2f} {f.verdict}" if f.ratio is not None else "—"
            self.stdout.write(f"{f.name:<{widths[0]}}  {f.target:<{widths[1]}}  {f.measured:<{widths[2]}}  {ratio}")
        missed = [f.name for f in figures if f.verdict == "MISSED"]
        if missed:
            self.stdout.write(self.style.ERROR(f"Missed targets: {', '.join(missed)}"))
        if missed and not quick:
            raise CommandError(f"Missed: {', '.join(missed)}")
