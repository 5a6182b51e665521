"""Every periodic job is also a management command an operator can run by hand."""

import datetime as dt
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command, get_commands
from django.utils import timezone

from inbox.models import Conversation
from integrations.models import WebhookDelivery
from outreach.models import Heartbeat

pytestmark = pytest.mark.django_db


def run(name, *args):
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def test_every_periodic_job_has_a_command():
    declared = {task for task, _every in settings.OUTREACH_PERIODIC_TASKS.values()}
    declared.add("integrations.sandbox.tasks.sandbox_tick")
    missing = declared - set(settings.OUTREACH_PERIODIC_COMMANDS)
    assert not missing, f"periodic jobs without a command: {missing}"
    commands = get_commands()
    assert not [name for name in settings.OUTREACH_PERIODIC_COMMANDS.values() if name not in commands]


def test_process_webhooks_drains_stored_deliveries(client_org):
    from tests.factories import AccountFactory

    AccountFactory(client=client_org, unipile_account_id="acc-1")
    WebhookDelivery.objects.create(
        source="account_status",
        event="account_status",
        body='{"AccountStatus": {"account_id": "acc-1", "message": "CREDENTIALS"}}',
    )
    assert "1 delivery(ies) processed" in run("process_webhooks", "--once")
    assert WebhookDelivery.objects.get().status == "processed"
    assert "0 delivery(ies) processed" in run("process_webhooks", "--once")


def test_heartbeat_wake_snoozed_digests_and_purge(client_org):
    from tests.factories import AccountFactory

    assert "Heartbeat recorded" in run("heartbeat", "--once") and Heartbeat.objects.filter(name="worker").exists()
    account = AccountFactory(client=client_org)
    Conversation.objects.create(
        client=client_org, account=account, chat_id="c1", status="snoozed",
        snoozed_until=timezone.now() - dt.timedelta(minutes=1),
    )  # fmt: skip
    assert "1 conversation(s) woken up" in run("wake_snoozed", "--once")
    assert Conversation.objects.get().status == "open"
    assert "reply digest(s) sent" in run("send_reply_digests", "--once")
    assert "expired idempotency key(s) and 0 ended throttle window(s) deleted" in run(
        "purge_idempotency_keys", "--once"
    )
