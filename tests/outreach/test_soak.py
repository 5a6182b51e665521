"""The soak's checks find what they look for (the soak itself runs in CI through `make soak`)."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from integrations.models import WebhookDelivery
from integrations.sandbox.models import (
    SandboxAccount,
    SandboxChat,
    SandboxDelivery,
    SandboxInvitation,
    SandboxMember,
    SandboxMessage,
    SandboxWebhook,
)
from outreach.management.commands.soak import SOAK_SLUG, Command
from tests import factories


@pytest.fixture
def soak_run(db):
    client = factories.ClientFactory(slug=SOAK_SLUG)
    account = factories.AccountFactory(client=client, unipile_account_id="soak-acc-0", daily_invite_limit=2)
    sandbox_account = SandboxAccount.objects.create(account_id="soak-acc-0", name="S", provider_id="ACoAASoak0")
    members = [
        SandboxMember.objects.create(
            provider_id=f"ACoAAM{i}", public_identifier=f"m{i}", first_name="M", last_name=str(i)
        )
        for i in range(3)
    ]
    return client, account, sandbox_account, members


def _check(client) -> tuple[int, str]:
    out = io.StringIO()
    command = Command(stdout=out)
    return command._check(client.created_at), out.getvalue()


def test_a_clean_run_has_no_problems(soak_run):
    client, _account, sandbox_account, members = soak_run
    SandboxInvitation.objects.create(id="inv1", account=sandbox_account, member=members[0])
    problems, out = _check(client)
    assert problems == 0 and "cap violations                       0" in out


def test_caps_duplicates_missed_replies_and_lost_webhooks_are_found(soak_run):
    client, _account, sandbox_account, members = soak_run
    for n, member in enumerate(members):  # three invitations against a cap of two
        SandboxInvitation.objects.create(id=f"inv{n}", account=sandbox_account, member=member)
    SandboxInvitation.objects.create(
        id="inv-again", account=sandbox_account, member=members[0]
    )  # the same person twice
    chat = SandboxChat.objects.create(id="chat1", account=sandbox_account, member=members[1])
    SandboxMessage.objects.create(id="out1", chat=chat, text="Hi", is_sender=True)
    SandboxMessage.objects.create(id="out2", chat=chat, text="Hi", is_sender=True)  # the same step twice
    SandboxMessage.objects.create(id="reply1", chat=chat, text="Sure", is_sender=False)  # Outreach never saw it
    hook = SandboxWebhook.objects.create(id="wh_soak_messaging", source="messaging", request_url="http://x/")
    SandboxDelivery.objects.create(
        webhook=hook, payload={"event": "message_received", "message_id": "reply1"}, delivered_at=timezone.now()
    )
    WebhookDelivery.objects.create(source="messaging", dedupe_key="message_received:other", status="processed")
    problems, out = _check(client)
    assert "cap violations                       1" in out
    assert "actions sent twice                   2" in out
    assert "replies missed                       1" in out
    assert "webhook deliveries lost              1" in out
    assert problems == 5


def test_check_only_without_a_run(db):
    with pytest.raises(CommandError, match="No soak run"):
        call_command("soak", "--check-only")


def test_a_send_inside_a_429_cool_down_is_found(soak_run):
    from integrations.sandbox.models import SandboxRateLimit

    client, _account, sandbox_account, members = soak_run
    limit = SandboxRateLimit.objects.create(account=sandbox_account, at=timezone.now())
    SandboxInvitation.objects.create(
        id="inv-too-soon",
        account=sandbox_account,
        member=members[0],
        created_at=limit.at + timezone.timedelta(seconds=5),
    )
    problems, out = _check(client)
    assert problems == 1 and "sent within 0:00:30 of a 429" in out


def test_an_account_status_that_is_not_the_last_event_is_found(soak_run):
    client, _account, sandbox_account, _members = soak_run
    SandboxAccount.objects.filter(pk=sandbox_account.pk).update(status="CREDENTIALS")
    problems, out = _check(client)
    assert problems == 1 and "account status not the last event" in out and "Outreach says OK" in out


class _Receiver:
    def __init__(self, arrivals):
        self.arrivals, self.accepted, self.refused, self.bad_signatures = arrivals, list(arrivals), 4, 0

    def first_arrivals(self):
        return dict(self.arrivals)

    def stop(self):
        pass


def test_lost_and_out_of_order_outbound_events_are_found(soak_run):
    from integrations.models import OutboxEvent

    client = soak_run[0]
    for n, lead in enumerate([7, 7, 8, 7]):
        OutboxEvent.objects.create(public_id=f"evt_{n}", client=client, type="lead.status_changed", lead_id=lead,
                                   payload={})  # fmt: skip
    out = io.StringIO()
    command = Command(stdout=out)
    # evt_1 arrived before evt_0 (the same lead), evt_3 never arrived.
    command.receiver = _Receiver({"evt_0": (10.0, "7"), "evt_1": (9.0, "7"), "evt_2": (11.0, "8")})
    assert command._check_outbound() == 2
    assert "never delivered" in out.getvalue() and "evt_3" in out.getvalue() and "out of order" in out.getvalue()
    command.receiver = _Receiver({"evt_0": (1.0, "7"), "evt_1": (2.0, "7"), "evt_2": (1.5, "8"), "evt_3": (3.0, "7")})
    assert command._check_outbound() == 0
