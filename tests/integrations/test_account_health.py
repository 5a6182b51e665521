"""Adding an account by id (checked with Unipile, same refusal everywhere), status from Unipile only, the
disconnection email, the health page and API, and the dashboard's accounts to reconnect."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from integrations.models import AccountNotice, AccountStatusChange, LinkedInAccount
from integrations.notices import account_notice_send
from integrations.services import account_record_status
from integrations.unipile import ProviderUnavailable
from leads.models import Event
from outreach.models import Membership
from tests.factories import AccountFactory, CampaignFactory, LeadFactory, RateUsageFactory, UserFactory
from tests.reports.test_emails import resend_fake  # noqa: F401  (the fixture: Resend's API, faked over HTTP)

pytestmark = pytest.mark.django_db


def admin_add(admin_client, client_org, account_id):
    form = {
        "client": client_org.pk, "name": "Hand Added", "unipile_account_id": account_id, "kind": "classic",
        "daily_invite_limit": 20, "weekly_invite_limit": 90, "daily_message_limit": 80, "daily_visit_limit": 50,
        "daily_inmail_limit": 10, "daily_follow_limit": 20, "daily_like_limit": 20, "daily_endorse_limit": 10,
        "daily_withdraw_limit": 30, "max_pending_invitations": 400, "min_seconds_between_actions": 150,
    }  # fmt: skip
    return admin_client.post(reverse("admin:integrations_linkedinaccount_add"), form)


def api_add(client_org, account_id):
    api = APIClient()
    api.force_authenticate(UserFactory(username="root", is_superuser=True, is_staff=True))
    return api.post(
        "/api/v1/linkedin-accounts",
        {"client": str(client_org.pk), "name": "Hand Added", "unipile_account_id": account_id},
        format="json",
    )


@pytest.mark.parametrize(
    ("account_id", "setup", "words"),
    [
        ("made-up-id", None, "Unipile has no account"),
        ("acc-bound", "bound", "already connected, for"),
        ("acc-down", "down", "Unipile did not answer"),
    ],
)
def test_adding_an_account_by_id_is_refused_alike_by_the_admin_and_the_api(
    admin_client, client_org, fake_unipile, account_id, setup, words
):
    if setup == "bound":
        AccountFactory(unipile_account_id="acc-bound")  # of another client
    before = LinkedInAccount.objects.count()
    for way in ("admin", "api"):
        if setup == "down":
            fake_unipile.fail_next("get_account", ProviderUnavailable("timed out", status=None))
        if way == "admin":
            page = admin_add(admin_client, client_org, account_id)
            assert page.status_code == 200 and words in page.content.decode(), way
        else:
            answer = api_add(client_org, account_id)
            assert answer.status_code == 400 and words in str(answer.json()["details"]["unipile_account_id"]), way
        assert LinkedInAccount.objects.count() == before, way


@pytest.mark.parametrize("way", ["admin", "api"])
def test_an_id_unipile_knows_is_added_with_what_unipile_says(admin_client, client_org, fake_unipile, way):
    fake_unipile.add_account("acc-real", status="OK", kind="sales_navigator", premium=False, own="ACoAAReal")
    if way == "admin":
        assert admin_add(admin_client, client_org, "acc-real").status_code == 302
    else:
        assert api_add(client_org, "acc-real").status_code == 201
    account = LinkedInAccount.objects.get(unipile_account_id="acc-real")
    assert (account.status, account.kind, account.is_premium, account.provider_id) == (
        "OK", "sales_navigator", False, "ACoAAReal"
    )  # fmt: skip
    assert account.warmup_started_on == account.today() and account.status_changes.get().source == "operator"


def test_status_and_own_id_cannot_be_set_by_hand(admin_client, client_org, fake_unipile):
    account = AccountFactory(client=client_org, status="CREDENTIALS", provider_id="ACoAAOwnOld")
    page = admin_client.get(reverse("admin:integrations_linkedinaccount_change", args=[account.pk])).content.decode()
    for name in ("status", "provider_id", "is_premium", "unipile_account_id", "client"):
        assert f'name="{name}"' not in page, name
    api = APIClient()
    api.force_authenticate(UserFactory(username="root", is_superuser=True, is_staff=True))
    answer = api.patch(
        f"/api/v1/linkedin-accounts/{account.pk}",
        {"status": "OK", "provider_id": "x", "is_premium": True},
        format="json",
    )
    account.refresh_from_db()
    assert answer.status_code in (200, 400) and (account.status, account.provider_id) == ("CREDENTIALS", "ACoAAOwnOld")


def test_the_periodic_sync_reads_status_and_resumes_what_the_status_paused(client_org, fake_unipile):
    account = AccountFactory(client=client_org, unipile_account_id="acc-1", status="OK")
    operator_paused = AccountFactory(client=client_org, unipile_account_id="acc-2", status="OK")
    gone = AccountFactory(client=client_org, unipile_account_id="acc-3", status="OK")
    fake_unipile.add_account("acc-1", status="CREDENTIALS")
    fake_unipile.add_account("acc-2", status="CREDENTIALS")
    from integrations.services import account_pause

    account_pause(account=operator_paused, reason="holiday")
    call_command("sync_accounts", "--once")
    account.refresh_from_db()
    gone.refresh_from_db()
    assert account.status == "CREDENTIALS" and account.paused and account.pause_source == "status"
    assert gone.status == "DELETED" and gone.paused
    fake_unipile.add_account("acc-1", status="OK")
    fake_unipile.add_account("acc-2", status="OK")
    call_command("sync_accounts", "--once")
    account.refresh_from_db()
    operator_paused.refresh_from_db()
    assert account.can_work and account.disconnected_since is None
    assert operator_paused.status == "OK" and operator_paused.paused and operator_paused.paused_reason == "holiday"
    assert list(account.status_changes.values_list("status", "source")) == [("OK", "sync"), ("CREDENTIALS", "sync")]


def test_one_email_per_disconnection_through_the_mailer(
    client_org,
    resend_fake,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    staff = UserFactory(username="op", email="op@agency.example", is_staff=True)
    Membership.objects.create(user=staff, client=client_org, role="admin")
    client_org.notification_recipients = "ops@client.example"
    client_org.save()
    account = AccountFactory(client=client_org, status="OK")
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        for minutes, status in ((0, "CREDENTIALS"), (1, "CHECKPOINT"), (2, "ERROR")):
            account_record_status(
                account=account, status=status, source="webhook", when=now + dt.timedelta(minutes=minutes)
            )
    notice = AccountNotice.objects.get()
    assert notice.status == "sent" and {m["to"][0] for m in resend_fake.sent} == {
        "ops@client.example",
        "op@agency.example",
    }
    assert len(resend_fake.sent) == 2 and "needs to be reconnected" in resend_fake.sent[0]["subject"]
    account_notice_send(notice_id=notice.pk)  # a retried task sends nothing again
    assert len(resend_fake.sent) == 2
    with django_capture_on_commit_callbacks(execute=True):
        account_record_status(account=account, status="OK", source="webhook", when=now + dt.timedelta(minutes=3))
        account_record_status(
            account=account, status="CREDENTIALS", source="webhook", when=now + dt.timedelta(minutes=4)
        )
    assert AccountNotice.objects.count() == 2 and len(resend_fake.sent) == 4  # a new disconnection, a new email


def test_the_health_page_and_api_show_the_accounts_figures(admin_client, client_org):
    account = AccountFactory(client=client_org, daily_invite_limit=20)
    account.warmup_started_on = account.today() - dt.timedelta(days=2)
    account.save()
    campaign = CampaignFactory(client=client_org, name="Founders Q1", status="active")
    campaign.senders.add(account)
    RateUsageFactory(account=account, day=account.today(), invites=11, messages=3)
    now = timezone.now()
    invited = [
        LeadFactory(campaign=campaign, sender=account, status="invited", invited_at=now - dt.timedelta(days=d))
        for d in (9, 3)
    ]
    accepted = LeadFactory(campaign=campaign, sender=account, status="connected", connected_at=now)
    for lead in (*invited, accepted):
        Event.objects.create(lead=lead, account=account, type="invite_sent", occurred_at=now - dt.timedelta(days=3))
    Event.objects.create(
        lead=invited[0], account=account, type="send_failed", occurred_at=now,
        data={"kind": "retry", "detail": "503 provider_error", "provider_type": "provider_error"},
    )  # fmt: skip
    account_record_status(account=account, status="CREDENTIALS", source="webhook")
    page = admin_client.get(reverse("admin:integrations_linkedinaccount_health", args=[account.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    for expected in ("Day 3", "Founders Q1", "503 provider_error", "Credentials needed", "Reconnect", "33 %"):
        assert expected in text, expected
    assert "nvitation cap reached (11/11)" in text  # the warm-up cap of day 3: 5 + 3 × 2

    api = APIClient()
    api.force_authenticate(UserFactory(username="root", is_superuser=True, is_staff=True))
    body = api.get(f"/api/v1/linkedin-accounts/{account.pk}/health").json()
    invites = next(u for u in body["usage"] if u["kind"] == "invites")
    assert (invites["used_today"], invites["cap_today"], invites["left_today"], invites["limit"]) == (11, 11, 0, 20)
    assert body["pending_invitations"] == 2 and body["warmup_day"] == 3 and body["needs_reconnect"] is True
    assert (body["invited_30d"], body["accepted_30d"]) == (3, 1) and body["history"][0]["status"] == "CREDENTIALS"
    assert body["campaigns"] == [{"id": campaign.pk, "name": "Founders Q1", "status": "active"}]
    assert any("cap reached" in b and "resumes at" in b for b in body["blockers"]), body["blockers"]


def test_the_health_api_follows_client_scope(client_org):
    account = AccountFactory(client=client_org)
    outsider = UserFactory(username="outsider")
    Membership.objects.create(user=outsider, client=AccountFactory().client, role="admin")
    api = APIClient()
    api.force_authenticate(outsider)
    assert api.get(f"/api/v1/linkedin-accounts/{account.pk}/health").status_code == 404


def test_the_dashboard_lists_accounts_to_reconnect_first(admin_client, client_org):
    fine = AccountFactory(client=client_org, name="Aaron Fine", status="OK")
    broken = AccountFactory(client=client_org, name="Zoe Broken", status="OK")
    account_record_status(account=broken, status="CHECKPOINT", source="webhook")
    text = admin_client.get(reverse("admin:index")).content.decode()
    assert "1 sender account to reconnect" in text
    assert text.index("Zoe Broken") < text.index("Aaron Fine")
    listing = admin_client.get(reverse("admin:integrations_linkedinaccount_changelist")).content.decode()
    assert listing.index("Zoe Broken") < listing.index("Aaron Fine")
    assert AccountStatusChange.objects.filter(account=broken).count() == 1 and fine.status == "OK"
