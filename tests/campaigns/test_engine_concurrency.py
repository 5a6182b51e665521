"""Four senders at once against one account: caps hold and nothing is sent twice (PostgreSQL row locks)."""

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections

from campaigns.engine import planner, sender
from campaigns.models import Campaign, OutboundAction
from integrations.models import RateUsage
from integrations.unipile import ProviderUnavailable
from tests.factories import AccountFactory, CampaignFactory, ClientFactory, LeadFactory, StepFactory
from tests.fakes import FakeUnipile

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks; runs in CI's PostgreSQL pass"
    ),
]
START = dt.datetime(2026, 11, 18, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))


def run_workers(account, fake, ticks, workers=4):
    errors = []

    def work():
        try:
            for tick in range(ticks):
                sender.send_for_account(account_id=account.pk, now=START + dt.timedelta(seconds=16 * tick), client=fake)
        except Exception as exc:  # a worker's crash must fail the test, not vanish in a thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def test_four_concurrent_senders_respect_caps_and_never_send_twice():
    client = ClientFactory(timezone="Europe/Paris")
    account = AccountFactory(client=client, daily_invite_limit=7, min_seconds_between_actions=10)
    campaign = CampaignFactory(client=client, status=Campaign.Status.ACTIVE, timezone="Europe/Paris")
    campaign.senders.add(account)
    StepFactory(campaign=campaign, position=1, action="invite", template="Hi {first_name}")
    LeadFactory.create_batch(20, campaign=campaign, first_name="Ann", next_action_at=START)
    planner.plan_due(now=START)
    assert OutboundAction.objects.filter(status="queued").count() == 20

    fake = FakeUnipile()
    fake.fail_next("send_invitation", ProviderUnavailable("timed out"), after_acting=True, times=2)
    fake.fail_next("send_invitation", ProviderUnavailable("503", status=503))
    run_workers(account, fake, ticks=40)

    invited = [pid for kind, pid, _ in fake.delivered if kind == "invite"]
    assert len(invited) == len(set(invited)), "somebody was invited twice"
    assert len(invited) == 7
    assert RateUsage.objects.get(account=account).invites == 7
    assert OutboundAction.objects.filter(status="sent").count() == 7
    assert not OutboundAction.objects.filter(status="claimed").exists()
