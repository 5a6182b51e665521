"""Connecting and reconnecting accounts through hosted auth: the sandbox end to end, and every refusal."""

import datetime as dt
import json

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from integrations import connect
from integrations.models import AccountNotice, AccountStatusChange, HostedAuthLink, LinkedInAccount, WebhookDelivery
from integrations.sandbox.models import SandboxAccount, SandboxHostedLink
from integrations.unipile import ProviderUnavailable
from outreach.models import Membership
from tests.factories import AccountFactory, ClientFactory, UserFactory

pytestmark = pytest.mark.django_db


def notify(client, body) -> tuple[int, dict]:
    response = client.post(reverse("hosted-auth-notify"), data=json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def link_for(client_org, fake, **kwargs):
    link = connect.hosted_link_request(client=client_org, unipile=fake, **kwargs)
    return link, fake.links[-1]["name"]


# --- the sandbox, end to end over HTTP ---


@pytest.fixture
def live_sandbox(sandbox, live_server, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    return live_server


def test_connect_through_the_sandbox_end_to_end(live_sandbox, client_org, admin_client, settings):
    settings.ACCOUNT_DEFAULT_LIMITS = {**settings.ACCOUNT_DEFAULT_LIMITS, "daily_invite_limit": 17}
    page = admin_client.post(reverse("admin:integrations_linkedinaccount_connect"), {"client": client_org.pk})
    link = HostedAuthLink.objects.get()
    assert page.status_code == 302 and page["Location"].endswith(f"/connect/{link.public_id}/")
    shown = admin_client.get(page["Location"]).content.decode()
    assert link.url in shown and "expires at" in shown
    assert link.url.startswith(f"{live_sandbox.url}/sandbox/unipile/hosted/")
    assert admin_client.get(
        reverse("admin:integrations_linkedinaccount_link_status", args=[link.public_id])
    ).json() == {"state": "pending"}

    # The owner logs in on the (sandbox's) hosted page; it calls our notify URL over HTTP.
    import requests

    owner = requests.Session()
    form = owner.get(link.url)
    assert form.status_code == 200 and "Connect a LinkedIn account" in form.text
    token = owner.cookies["csrftoken"]
    done = owner.post(
        link.url,
        data={"csrfmiddlewaretoken": token, "name": "Nora Owner", "feature": "sales_navigator", "premium": "on",
              "outcome": "login"},
        headers={"Referer": link.url},
    )  # fmt: skip
    assert done.status_code == 200 and done.url.endswith("/connect/done/?result=connected")
    assert "Your LinkedIn account is connected" in done.text
    owner.close()  # no keep-alive connection left waiting in the live server

    remote = SandboxAccount.objects.get(name="Nora Owner")
    account = LinkedInAccount.objects.get(unipile_account_id=remote.account_id)
    assert (account.client, account.name, account.kind, account.is_premium) == (
        client_org, "Nora Owner", "sales_navigator", True
    )  # fmt: skip
    assert account.provider_id == remote.provider_id and account.can_work
    assert account.daily_invite_limit == 17 and account.warmup_started_on == account.today()
    assert AccountStatusChange.objects.filter(account=account, source="connect").exists()
    link.refresh_from_db()
    assert link.used_at and link.account == account
    assert WebhookDelivery.objects.get(source="hosted_auth").status == "processed"

    # The operator's page moves on to the account, with a message.
    status = admin_client.get(reverse("admin:integrations_linkedinaccount_link_status", args=[link.public_id]))
    assert status.json() == {
        "state": "used", "redirect": reverse("admin:integrations_linkedinaccount_change", args=[account.pk])
    }  # fmt: skip
    assert any("connected for" in str(m) for m in get_messages(status.wsgi_request))

    # The same notification again (Unipile retrying, or someone replaying it) is refused and recorded.
    sandbox_link = SandboxHostedLink.objects.get()
    code, body = notify(admin_client, {"status": "CREATION_SUCCESS", "account_id": remote.account_id,
                                       "name": sandbox_link.name})  # fmt: skip
    assert code == 403 and "replayed" in body["message"]
    assert LinkedInAccount.objects.count() == 1
    assert WebhookDelivery.objects.filter(source="hosted_auth", status="failed").count() == 1


def test_reconnect_through_the_sandbox_resumes_the_account(live_sandbox, client_org, admin_client, mailoutbox):
    remote = SandboxAccount.objects.get(account_id="acc-sandbox")
    account = AccountFactory(client=client_org, unipile_account_id="acc-sandbox", status="OK")
    client_org.notification_recipients = "ops@client.example"
    client_org.save()

    # LinkedIn logs the account out: the webhook pauses it, opens one disconnection, and Reconnect is offered.
    from django.db import transaction

    from integrations.webhooks import handle_account_status

    for _ in range(2):  # the same status twice: one disconnection, one email
        with transaction.atomic():  # as the webhook processing runs it
            handle_account_status({"AccountStatus": {"account_id": "acc-sandbox", "message": "CREDENTIALS"}}, None)
    account.refresh_from_db()
    assert account.needs_reconnect and account.paused and account.pause_source == "status"
    notice = AccountNotice.objects.get()
    assert notice.status == "stored" and "ops@client.example" in notice.recipients
    assert "reconnect" in notice.text.lower() and f"/{account.pk}/reconnect/" in notice.text
    listing = admin_client.get(reverse("admin:integrations_linkedinaccount_changelist")).content.decode()
    assert reverse("admin:integrations_linkedinaccount_reconnect", args=[account.pk]) in listing

    page = admin_client.post(reverse("admin:integrations_linkedinaccount_reconnect", args=[account.pk]))
    link = HostedAuthLink.objects.get()
    assert page.status_code == 302 and link.kind == "reconnect" and link.account == account
    import requests

    owner = requests.Session()
    form = owner.get(link.url)
    assert "Reconnect Sofia Sender" in form.text
    done = owner.post(link.url, data={"csrfmiddlewaretoken": owner.cookies["csrftoken"], "outcome": "login"},
                      headers={"Referer": link.url})  # fmt: skip
    assert done.url.endswith("?result=connected")
    owner.close()
    remote.refresh_from_db()
    account.refresh_from_db()
    assert remote.status == "OK" and account.can_work and not account.paused and account.disconnected_since is None
    assert LinkedInAccount.objects.count() == 1 and AccountNotice.objects.count() == 1


# --- refusals of the notify call ---


def test_forged_expired_and_foreign_notifications_are_refused_and_recorded(client_org, fake_unipile, client):
    fake_unipile.add_account("acc-new")
    link, name = link_for(client_org, fake_unipile)
    forged = name.rsplit(".", 1)[0] + ".not-the-secret"
    assert notify(client, {"status": "CREATION_SUCCESS", "account_id": "acc-new", "name": forged})[0] == 403
    assert notify(client, {"status": "CREATION_SUCCESS", "account_id": "acc-new", "name": "outreach1.nope.x"})[0] == 403
    assert notify(client, {"account_id": "acc-new"})[0] == 400
    assert notify(client, "not an object")[0] == 400

    other = AccountFactory(client=ClientFactory(), unipile_account_id="acc-other")
    code, body = notify(client, {"status": "CREATION_SUCCESS", "account_id": other.unipile_account_id, "name": name})
    assert code == 403 and "another client" in body["message"]

    HostedAuthLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    code, body = notify(client, {"status": "CREATION_SUCCESS", "account_id": "acc-new", "name": name})
    assert code == 403 and "expired" in body["message"]
    assert LinkedInAccount.objects.filter(unipile_account_id="acc-new").count() == 0
    errors = list(WebhookDelivery.objects.filter(source="hosted_auth").values_list("status", "error"))
    assert len(errors) == 6 and all(status == "failed" and error for status, error in errors)
    other.refresh_from_db()
    assert other.client_id != client_org.pk


def test_a_reconnect_link_only_reconnects_its_own_account(client_org, fake_unipile, client):
    account = AccountFactory(client=client_org, unipile_account_id="acc-1", status="CREDENTIALS")
    fake_unipile.add_account("acc-1", status="OK")
    fake_unipile.add_account("acc-2")
    _link, name = link_for(client_org, fake_unipile, account=account)
    assert fake_unipile.links[-1]["reconnect_account_id"] == "acc-1" and fake_unipile.links[-1]["kind"] == "reconnect"
    code, body = notify(client, {"status": "RECONNECTED", "account_id": "acc-2", "name": name})
    assert code == 403 and "foreign" in body["message"]
    code, body = notify(client, {"status": "RECONNECTED", "account_id": "acc-1", "name": name})
    assert code == 200 and body["result"] == "reconnected"
    account.refresh_from_db()
    assert account.status == "OK" and LinkedInAccount.objects.count() == 1


def test_a_failed_login_leaves_the_link_usable(client_org, fake_unipile, client):
    fake_unipile.add_account("acc-new")
    link, name = link_for(client_org, fake_unipile)
    code, body = notify(client, {"status": "CREDENTIALS", "account_id": "acc-new", "name": name})
    assert code == 200 and body["result"] == "not_completed"
    link.refresh_from_db()
    assert link.used_at is None
    assert notify(client, {"status": "CREATION_SUCCESS", "account_id": "acc-new", "name": name})[0] == 200
    assert LinkedInAccount.objects.get(unipile_account_id="acc-new").client == client_org


def test_the_account_is_created_when_unipile_cannot_be_read_right_after(client_org, fake_unipile, client):
    _link, name = link_for(client_org, fake_unipile)
    fake_unipile.fail_next("get_account", ProviderUnavailable("down", status=503))
    code, _body = notify(client, {"status": "CREATION_SUCCESS", "account_id": "acc-late", "name": name})
    account = LinkedInAccount.objects.get(unipile_account_id="acc-late")
    assert code == 200 and account.status == "CREATION_SUCCESS" and account.provider_id == ""
    fake_unipile.add_account("acc-late", name="Late Owner", kind="recruiter", own="ACoAALate")
    from django.core.management import call_command

    call_command("sync_accounts", "--once")
    account.refresh_from_db()
    assert (account.status, account.kind, account.provider_id) == ("OK", "recruiter", "ACoAALate")


# --- asking for a link ---


def test_unipile_down_while_asking_for_a_link_creates_nothing(client_org, fake_unipile, admin_client):
    fake_unipile.fail_next("request_hosted_link", ProviderUnavailable("503 unexpected_error", status=503))
    page = admin_client.post(reverse("admin:integrations_linkedinaccount_connect"), {"client": client_org.pk})
    assert page.status_code == 200 and "Unipile did not give a link" in page.content.decode()
    fake_unipile.fail_next("request_hosted_link", ProviderUnavailable("503 unexpected_error", status=503))
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(_superuser())
    answer = api.post("/api/v1/linkedin-accounts/connect", {"client": str(client_org.pk)}, format="json")
    assert answer.status_code == 503 and "Unipile did not give a link" in answer.json()["message"]
    assert HostedAuthLink.objects.count() == 0


def _superuser():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(is_superuser=True).first()


def test_the_api_gives_links_to_client_admins_only(client_org, fake_unipile):
    from rest_framework.test import APIClient

    other = ClientFactory()
    admin, agent = UserFactory(username="boss"), UserFactory(username="agent")
    Membership.objects.create(user=admin, client=client_org, role="admin")
    Membership.objects.create(user=agent, client=client_org, role="agent")
    Membership.objects.create(user=admin, client=other, role="viewer")
    api = APIClient()
    api.force_authenticate(admin)
    answer = api.post("/api/v1/linkedin-accounts/connect", {"client": str(client_org.pk)}, format="json")
    assert answer.status_code == 201 and answer.json()["url"].startswith("https://hosted.unipile.example/")
    assert set(answer.json()) == {"url", "expires_at", "link"}
    refused = api.post("/api/v1/linkedin-accounts/connect", {"client": str(other.pk)}, format="json")
    assert refused.status_code == 400 and "client" in refused.json()["details"]
    api.force_authenticate(agent)
    assert (
        api.post("/api/v1/linkedin-accounts/connect", {"client": str(client_org.pk)}, format="json").status_code == 403
    )
    account = AccountFactory(client=client_org, status="CREDENTIALS")
    assert api.post(f"/api/v1/linkedin-accounts/{account.pk}/reconnect").status_code == 403
    api.force_authenticate(admin)
    answer = api.post(f"/api/v1/linkedin-accounts/{account.pk}/reconnect")
    assert answer.status_code == 201 and HostedAuthLink.objects.filter(account=account, kind="reconnect").exists()
    assert HostedAuthLink.objects.count() == 2


def test_link_expiry_never_passes_unipiles_daily_restart(settings):
    settings.HOSTED_AUTH_LINK_MINUTES = 60
    settings.UNIPILE_DAILY_RESTART_UTC_HOUR = 0
    late = dt.datetime(2026, 12, 3, 23, 30, tzinfo=dt.UTC)
    assert connect.link_expiry(late) == dt.datetime(2026, 12, 4, 0, 0, tzinfo=dt.UTC)
    early = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)
    assert connect.link_expiry(early) == dt.datetime(2026, 12, 3, 11, 0, tzinfo=dt.UTC)


def test_the_expired_link_page_offers_a_new_link(client_org, fake_unipile, admin_client):
    link, _ = link_for(client_org, fake_unipile)
    HostedAuthLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    page = admin_client.get(reverse("admin:integrations_linkedinaccount_link", args=[link.public_id])).content.decode()
    assert "This link expired" in page and "Get a new link" in page and "daily restart" in page
    again = admin_client.post(reverse("admin:integrations_linkedinaccount_connect"), {"client": client_org.pk})
    assert again.status_code == 302 and HostedAuthLink.objects.count() == 2
