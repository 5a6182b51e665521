"""Services and commands on top of the client, run against the sandbox over HTTP."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from integrations.sandbox.models import SandboxWebhook
from integrations.services import account_sync, webhooks_register
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def wired(sandbox, live_server, settings):
    """from_settings() now points at the live server's sandbox."""
    settings.PUBLIC_BASE_URL = live_server.url
    settings.UNIPILE_WEBHOOK_SECRET = "hook-secret"
    return live_server


@pytest.fixture
def sandbox_account(wired):
    return AccountFactory(unipile_account_id="acc-sandbox", status="CONNECTING", provider_id="")


def test_account_sync_stores_status_and_own_id(sandbox_account):
    missing = AccountFactory(unipile_account_id="not-at-unipile", client=sandbox_account.client)
    results = account_sync(accounts=[sandbox_account, missing])
    sandbox_account.refresh_from_db()
    missing.refresh_from_db()
    assert (sandbox_account.status, sandbox_account.provider_id) == ("OK", "ACoAASandboxOwn0001")
    assert missing.status == "DELETED" and not results[1].found


def test_test_connection_admin_action(admin_client, sandbox_account):
    response = admin_client.post(
        reverse("admin:integrations_linkedinaccount_changelist"),
        {"action": "test_connection", "_selected_action": [sandbox_account.pk]},
        follow=True,
    )
    assert any("OK, own id ACoAASandboxOwn0001" in str(m) for m in response.context["messages"])


def test_unipile_accounts_command(sandbox_account, capsys):
    call_command("unipile_accounts", "sync")
    assert "1 account(s) checked." in capsys.readouterr().out


def test_commands_explain_when_unipile_is_unreachable(settings, db):
    settings.UNIPILE_SANDBOX = False
    settings.UNIPILE_DSN = "127.0.0.1:9"
    settings.UNIPILE_API_KEY = "k"
    with pytest.raises(CommandError, match="Unipile did not answer"):
        call_command("unipile_accounts", "sync")


def test_webhooks_register_makes_exactly_one_per_source(wired, live_server, capsys):
    base = f"{live_server.url}/webhooks/unipile"
    SandboxWebhook.objects.create(
        id="wh_stale", source="users", request_url="https://old.example/webhooks/unipile/users/", name="outreach-users"
    )
    good_headers = [
        {"key": "Content-Type", "value": "application/json"},
        {"key": "Unipile-Auth", "value": "hook-secret"},
    ]
    SandboxWebhook.objects.create(
        id="wh_dup1",
        source="messaging",
        request_url=f"{base}/messaging/",
        name="outreach-messaging",
        headers=good_headers,
    )
    SandboxWebhook.objects.create(
        id="wh_dup2",
        source="messaging",
        request_url=f"{base}/messaging/",
        name="outreach-messaging",
        headers=good_headers,
    )
    SandboxWebhook.objects.create(
        id="wh_other", source="users", request_url="https://crm.example/hook", name="someone-else"
    )
    report = webhooks_register()
    assert report["kept"] == ["messaging: wh_dup1"]
    assert sorted(report["deleted"])[0].startswith("messaging: wh_dup2")
    hooks = {(h.source, h.request_url) for h in SandboxWebhook.objects.exclude(pk="wh_other")}
    assert hooks == {(s, f"{base}/{s}/") for s in ("messaging", "users", "account_status")}
    for hook in SandboxWebhook.objects.exclude(pk="wh_other"):
        assert {"key": "Unipile-Auth", "value": "hook-secret"} in hook.headers
        assert {"key": "Content-Type", "value": "application/json"} in hook.headers
    assert SandboxWebhook.objects.filter(pk="wh_other").exists()  # not ours: left alone

    second = webhooks_register()
    assert second["created"] == [] and second["deleted"] == [] and len(second["kept"]) == 3

    call_command("unipile_webhooks", "list")
    assert "/webhooks/unipile/users/" in capsys.readouterr().out
    call_command("unipile_webhooks", "delete", "wh_other")
    assert not SandboxWebhook.objects.filter(pk="wh_other").exists()


def test_webhooks_register_refuses_without_a_secret(wired, settings):
    settings.UNIPILE_WEBHOOK_SECRET = ""
    with pytest.raises(CommandError, match="UNIPILE_WEBHOOK_SECRET"):
        call_command("unipile_webhooks", "register")
