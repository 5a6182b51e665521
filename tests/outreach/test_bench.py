import io

import pytest
from django.core.management import CommandError, call_command


@pytest.mark.django_db
def test_bench_quick_prints_one_table(settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    out = io.StringIO()
    only = ["bench_import", "bench_engine", "bench_inbox", "bench_reports", "bench_api"]
    call_command("bench", "--quick", *[f"--only={name}" for name in only], stdout=out)
    text = out.getvalue()
    table = text[text.index("All benchmarks") :]
    assert "figure" in table and "ratio" in table
    for figure in (
        "CSV import",
        "plan tick",
        "inbox list, first page",
        "reports: campaign summary",
        "reports: rebuild_funnels",
        "portal home",
        "reports page",
        "API list",
    ):
        assert figure in table


def test_bench_refuses_unknown_names():
    with pytest.raises(CommandError, match="unknown benchmark"):
        call_command("bench", "--only=bench_nothing")


@pytest.mark.django_db
def test_query_counter_counts_after_a_long_run_filled_djangos_query_log(settings):
    from django.contrib.auth import get_user_model
    from django.db import connection

    from outreach.bench import counting_queries

    settings.DEBUG = True
    connection.queries_log.extend({"sql": "", "time": "0"} for _ in range(connection.queries_limit))
    with counting_queries() as queries:
        get_user_model().objects.count()
        list(get_user_model().objects.all())
    assert len(queries) == 2


def test_one_failing_benchmark_does_not_stop_the_others(monkeypatch):
    from django.core.management.base import BaseCommand

    from outreach.bench import FiguresMixin
    from outreach.management.commands import bench

    class Failing(BaseCommand):
        def handle(self, *args, **options):
            raise CommandError("read timed out (1 s)")

    class Working(FiguresMixin, BaseCommand):
        def handle(self, *args, **options):
            self.figure("plan tick", "< 1000 ms", "500 ms", 0.5)

    monkeypatch.setattr(
        bench, "load_command_class", lambda app, name: Failing() if name == "bench_import" else Working()
    )
    monkeypatch.setattr(bench, "QUICK", [("leads", "bench_import", {}), ("campaigns", "bench_engine", {})])
    out = io.StringIO()
    call_command("bench", "--quick", stdout=out, stderr=io.StringIO())
    table = out.getvalue()[out.getvalue().index("All benchmarks") :]
    assert "bench_import (did not finish)" in table and "read timed out" in table and "MISSED" in table
    assert "plan tick" in table and "Missed targets: bench_import (did not finish)" in out.getvalue()
