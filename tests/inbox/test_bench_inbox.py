import pytest
from django.core.management import CommandError, call_command

from inbox.models import Conversation, Message


@pytest.mark.django_db
def test_bench_inbox_builds_measures_and_reuses(capsys, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    call_command("bench_inbox", conversations=30, messages=90, requests=5)
    out = capsys.readouterr().out
    assert "list, first page" in out and "conversation page" in out and "p95 ms" in out
    assert Conversation.objects.count() == 30 and Message.objects.count() == 90
    call_command("bench_inbox", conversations=30, messages=90, requests=5)
    assert "Reusing" in capsys.readouterr().out
    assert Conversation.objects.count() == 30


@pytest.mark.django_db
def test_bench_inbox_refuses_nonsense():
    with pytest.raises(CommandError, match="--conversations"):
        call_command("bench_inbox", conversations=0)
