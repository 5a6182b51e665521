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
        "analytics: campaign summary",
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
