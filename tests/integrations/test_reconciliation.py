"""Reconciliation against the sandbox over HTTP: what webhooks missed is caught by polling."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from campaigns.engine.sync import sync_invitations, sync_relations
from inbox.polling import poll_replies
from integrations.models import SyncState
from integrations.sandbox import engine
from integrations.sandbox.models import SandboxInvitation
from leads.models import Event
from tests.factories import AccountFactory, CampaignFactory, LeadFactory, StepFactory

pytestmark = pytest.mark.django_db(transaction=True)
ACC = "acc-sandbox"


@pytest.fixture
def world(sandbox, sandbox_client):
    account = AccountFactory(unipile_account_id=ACC, provider_id="ACoAASandboxOwn0001")
    campaign = CampaignFactory(client=account.client, status="active")
    campaign.senders.add(account)
    StepFactory(campaign=campaign, position=1, action="invite", template="")
    StepFactory(campaign=campaign, position=2, action="message", delay_days=1, template="Hi {first_name}")
    return account, campaign, sandbox_client


def invited_lead(campaign, account, client, slug):
    profile = client.get_profile(account_id=ACC, identifier=slug)
    client.send_invitation(account_id=ACC, provider_id=profile.provider_id)
    return LeadFactory(
        campaign=campaign,
        public_identifier=slug,
        provider_id=profile.provider_id,
        status="invited",
        sender=account,
        current_step=1,
        invited_at=timezone.now() - dt.timedelta(hours=2),
    )


def test_relation_sync_connects_accepted_invitations_no_webhook_reported(world):
    account, campaign, client = world
    ann = invited_lead(campaign, account, client, "ann-lee")
    bob = invited_lead(campaign, account, client, "bob-ray")
    SandboxInvitation.objects.filter(member__public_identifier="bob-ray").update(decide_at=None)  # Bob never accepts
    engine.simulate(timezone.now() + dt.timedelta(days=30))
    counts = sync_relations(account=account, client=client)
    ann.refresh_from_db()
    bob.refresh_from_db()
    assert counts == {"seen": 1, "connected": 1}
    assert ann.status == "connected" and bob.status == "invited"
    assert Event.objects.get(type="invite_accepted").data["source"] == "relations_sync"
    state = SyncState.objects.get(account=account, job="relations")
    assert state.last_ok and state.cursor is not None and "1 lead(s) connected" in state.last_result
    assert sync_relations(account=account, client=client) == {"seen": 0, "connected": 0}  # stops at known ones


def test_reply_caught_by_polling_when_the_webhook_never_came(world):
    account, campaign, client = world
    lead = invited_lead(campaign, account, client, "cleo-kim")
    engine.simulate(timezone.now() + dt.timedelta(days=30))
    started = client.start_chat(account_id=ACC, attendee_provider_id=lead.provider_id, text="Hi Cleo")
    lead.status, lead.chat_id = "messaged", started.chat_id
    lead.save()
    engine.simulate(timezone.now() + dt.timedelta(days=30))  # Cleo answers; no webhook is registered
    counts = poll_replies(account=account, client=client)
    lead.refresh_from_db()
    assert counts["replies"] == 1 and lead.status == "replied"
    assert Event.objects.get(type="reply_received").data["source"] == "polling"
    again = poll_replies(account=account, client=client)
    assert again["replies"] == 0 and Event.objects.filter(type="reply_received").count() == 1


def test_invitation_sync_notices_withdrawn_and_accepted(world):
    account, campaign, client = world
    gone = invited_lead(campaign, account, client, "dana-cho")
    accepted = invited_lead(campaign, account, client, "eve-ng")
    waiting = invited_lead(campaign, account, client, "fay-lu")
    SandboxInvitation.objects.filter(member__public_identifier="fay-lu").update(decide_at=None)
    SandboxInvitation.objects.filter(member__public_identifier="dana-cho").update(status="WITHDRAWN", decide_at=None)
    SandboxInvitation.objects.filter(member__public_identifier="eve-ng").update(decide_at=timezone.now())
    engine.simulate(timezone.now() + dt.timedelta(seconds=1))
    counts = sync_invitations(account=account, client=client)
    for lead in (gone, accepted, waiting):
        lead.refresh_from_db()
    assert counts == {"pending": 1, "connected": 1, "withdrawn": 1}
    assert (gone.status, accepted.status, waiting.status) == ("withdrawn", "connected", "invited")


def test_commands_report_per_account(world, capsys, settings, live_server):
    account, _campaign, _client = world
    settings.PUBLIC_BASE_URL = live_server.url
    call_command("sync_relations")
    call_command("poll_replies")
    call_command("sync_invitations")
    out = capsys.readouterr().out
    assert (
        f"sync_relations {account}: seen 0, connected 0" in out
        and "poll_replies" in out
        and "1 account(s), 0 failed." in out
    )


def test_a_provider_failure_is_recorded_per_account(world, capsys, settings):
    account, _campaign, _client = world
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:9"
    call_command("poll_replies")
    assert "failed" in capsys.readouterr().out
    assert SyncState.objects.get(account=account, job="replies").last_ok is False
