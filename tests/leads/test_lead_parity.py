"""Parity: a lead added by hand in the admin goes through the same checks as the API and the import; a refused
lead is refused the same way everywhere and nothing is written. System-owned fields change only by actions."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from integrations.models import LinkedInAccount
from leads.models import DoNotContact, Lead
from outreach.api.tokens import api_token_issue
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=admin_user)[1]}")
    return client


@pytest.fixture
def listed(campaign):
    DoNotContact.objects.create(client=campaign.client, kind="email", value="no@acme.io")
    factories.LeadFactory(campaign=campaign, public_identifier="already-here")


CASES = [
    ("https://www.linkedin.com/company/acme/", "", "Invalid LinkedIn URL"),
    ("", "", "this field"),
    ("ann-lee", "No@Acme.io", "do-not-contact"),
    ("already-here", "", "Already a lead of this campaign"),
    ("https://evil.example\\@www.linkedin.com/in/victim/", "", "Invalid LinkedIn URL"),
]


@pytest.mark.parametrize(("linkedin", "email", "refusal"), CASES)
def test_the_api_and_the_admin_add_form_refuse_the_same_leads(
    api, admin_client, campaign, listed, linkedin, email, refusal
):
    before = set(Lead.objects.values_list("pk", flat=True))
    response = api.post(
        "/api/v1/leads", {"campaign": str(campaign.pk), "linkedin": linkedin, "email": email}, format="json"
    )
    assert response.status_code in (400, 409) and refusal.lower() in str(response.json()).lower()
    page = admin_client.post(
        reverse("admin:leads_lead_add"),
        {"campaign": campaign.pk, "linkedin": linkedin, "email": email, "custom_fields": "{}"},
    )
    assert page.status_code == 200 and refusal.lower() in page.content.decode().lower()
    assert set(Lead.objects.values_list("pk", flat=True)) == before


def test_the_admin_add_form_stores_what_the_import_would(admin_client, campaign):
    page = admin_client.post(
        reverse("admin:leads_lead_add"),
        {"campaign": campaign.pk, "linkedin": "https://www.linkedin.com/in/Ann-Lee/", "first_name": "Ann",
         "email": "Ann@Acme.io", "custom_fields": "{}"},
    )  # fmt: skip
    assert page.status_code == 302
    lead = Lead.objects.get()
    assert (lead.public_identifier, lead.email, lead.linkedin_url) == (
        "ann-lee",
        "ann@acme.io",
        "https://www.linkedin.com/in/ann-lee/",
    )


def test_system_owned_lead_fields_are_not_editable_in_the_admin(admin_client, campaign, account):
    lead = factories.LeadFactory(campaign=campaign, status="invited", current_step=1)
    url = reverse("admin:leads_lead_change", args=[lead.pk])
    page = admin_client.get(url).content.decode()
    for name in ("status", "next_action_at", "sender", "chat_id", "public_identifier", "provider_id", "campaign"):
        assert f'name="{name}"' not in page, name
    admin_client.post(url, {"first_name": "Changed", "status": "pending", "sender": account.pk, "custom_fields": "{}"})
    lead.refresh_from_db()
    assert (lead.first_name, lead.status, lead.sender_id) == ("Changed", "invited", None)


def test_an_account_cannot_be_paused_or_set_ok_by_hand(admin_client, account):
    """Pausing needs a reason and goes through the action; status comes from Unipile; the API agrees."""
    url = reverse("admin:integrations_linkedinaccount_change", args=[account.pk])
    page = admin_client.get(url).content.decode()
    for name in ("paused", "paused_reason", "status", "paused_until"):
        assert f'name="{name}"' not in page, name
    form = {
        "client": account.client_id,
        "name": account.name,
        "unipile_account_id": account.unipile_account_id,
        "kind": account.kind,
        "paused": "on",
        "status": "OK",
        "daily_invite_limit": 25,
        "weekly_invite_limit": 100,
        "daily_message_limit": 100,
        "daily_visit_limit": 80,
        "daily_inmail_limit": 30,
        "daily_follow_limit": 25,
        "daily_like_limit": 30,
        "daily_endorse_limit": 15,
        "daily_withdraw_limit": 40,
        "max_pending_invitations": 500,
        "min_seconds_between_actions": 120,
    }
    LinkedInAccount.objects.filter(pk=account.pk).update(status="CREDENTIALS")
    assert admin_client.post(url, form).status_code == 302
    account.refresh_from_db()
    assert (account.paused, account.status) == (False, "CREDENTIALS")
    refused = admin_client.post(
        reverse("admin:integrations_linkedinaccount_changelist"),
        {"action": "pause_accounts", "_selected_action": [account.pk], "apply": "1", "reason": " "},
    )
    account.refresh_from_db()
    assert refused.status_code == 200 and not account.paused
