import io

import pytest
from django.core.management import CommandError, call_command


@pytest.mark.django_db
def test_bench_quick_prints_one_table(settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    out = io.StringIO()
    only = ["bench_import", "bench_engine", "bench_inbox", "bench_reports"]
    call_command("bench", "--quick", *[f"--only={name}" for name in only], stdout=out)
    text = out.getvalue()
    table = text[text.index("All benchmarks") :]
    assert "figure" in table and "ratio" in table
    for figure in ("CSV import", "plan tick", "inbox list, first page", "analytics: campaign summary"):
        assert figure in table


def test_bench_refuses_unknown_names():
    with pytest.raises(CommandError, match="unknown benchmark"):
        call_command("bench", "--only=bench_nothing")
