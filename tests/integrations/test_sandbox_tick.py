import datetime as dt

import pytest
from django.core.management import CommandError, call_command

from integrations.sandbox import engine
from integrations.sandbox.models import SandboxAccount, SandboxInvitation, SandboxRelation
from integrations.sandbox.tasks import sandbox_tick
from outreach.models import Client

pytestmark = pytest.mark.django_db


def test_tick_task_accepts_due_invitations(sandbox):
    invitation, _ = engine.invite(account_id="acc-sandbox", provider_id="ivy-park", message="")
    SandboxInvitation.objects.filter(pk=invitation.pk).update(decide_at=invitation.created_at - dt.timedelta(seconds=1))
    sandbox_tick.apply()
    assert SandboxRelation.objects.filter(member__public_identifier="ivy-park").exists()


def test_tick_command_refuses_when_sandbox_is_off(settings):
    settings.UNIPILE_SANDBOX = False
    with pytest.raises(CommandError, match="UNIPILE_SANDBOX"):
        call_command("sandbox_tick", "--once")


def test_tick_command_once(sandbox, capsys):
    call_command("sandbox_tick", "--once")
    assert "accepted 0, replied 0" in capsys.readouterr().out


def test_demo_mirrors_its_accounts_in_the_sandbox(sandbox, capsys):
    call_command("demo")
    call_command("demo")
    client = Client.objects.get(slug="demo")
    assert set(SandboxAccount.objects.values_list("account_id", flat=True)) >= {
        "sandbox-account-1",
        "sandbox-account-2",
    }
    assert client.campaigns.get().leads.count() == 50
    campaign = client.campaigns.get()
    assert campaign.status == "active"
    # The demo moves within minutes: no waiting between steps, every hour of every day.
    assert set(campaign.steps.values_list("delay_days", flat=True)) == {0}
    assert campaign.working_days == list(range(7))


def test_population_is_seeded(db):
    assert engine.populate(30, seed=3) == 30
    assert engine.populate(30, seed=3) == 0
