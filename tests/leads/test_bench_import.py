import pytest
from django.core.management import CommandError, call_command

from campaigns.models import Campaign
from leads.models import Lead


@pytest.mark.django_db
def test_bench_import_checks_its_own_result_and_cleans_up(capsys):
    call_command("bench_import", rows=400)
    out = capsys.readouterr().out
    assert "import:" in out and "created" in out and "new " in out
    assert not Campaign.objects.filter(client__slug="bench-import").exists()
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_bench_import_refuses_nonsense():
    with pytest.raises(CommandError, match="--rows"):
        call_command("bench_import", rows=0)
