"""Admin delete paths, beyond the smoke tests: what goes, what stays, and what is refused."""

import pytest
from django.urls import reverse

from campaigns.models import Campaign, OutboundAction, Step
from integrations.models import LinkedInAccount
from leads.models import DoNotContact, Event, Lead
from tests import factories

pytestmark = pytest.mark.django_db


def delete(admin_client, name, pk):
    return admin_client.post(reverse(f"admin:{name}_delete", args=[pk]), {"post": "yes"})


def test_deleting_a_lead_takes_its_history(admin_client, campaign, account):
    lead = factories.LeadFactory(campaign=campaign)
    Event.objects.create(lead=lead, type="invite_sent")
    assert delete(admin_client, "leads_lead", lead.pk).status_code == 302
    assert not Lead.objects.filter(pk=lead.pk).exists() and not Event.objects.filter(lead_id=lead.pk).exists()


def test_deleting_a_dnc_entry_leaves_stopped_leads_stopped(admin_client, campaign):
    lead = factories.LeadFactory(campaign=campaign, email="ann@acme.io")
    admin_client.post(reverse("admin:leads_donotcontact_add"), {"client": campaign.client_id, "value": "ann@acme.io"})
    entry = DoNotContact.objects.get()
    assert delete(admin_client, "leads_donotcontact", entry.pk).status_code == 302
    lead.refresh_from_db()
    assert not DoNotContact.objects.exists() and lead.status == "do_not_contact"


def test_deleting_a_campaign_takes_its_steps_and_history_after_confirmation(admin_client, campaign, account):
    lead = factories.LeadFactory(campaign=campaign)
    step = campaign.steps.get(position=1)
    OutboundAction.objects.create(lead=lead, step=step, account=account, action="invite", status="sent")
    page = admin_client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    assert page.status_code == 200
    # Deleting the whole campaign takes its steps and history together, after the confirmation page.
    confirm = admin_client.get(reverse("admin:campaigns_campaign_delete", args=[campaign.pk]))
    assert confirm.status_code == 200 and "Step" in confirm.content.decode()
    assert delete(admin_client, "campaigns_campaign", campaign.pk).status_code == 302
    assert not Campaign.objects.filter(pk=campaign.pk).exists() and not Step.objects.filter(pk=step.pk).exists()


def test_deleting_an_account_through_the_admin(admin_client, client_org):
    account = factories.AccountFactory(client=client_org)
    assert admin_client.get(reverse("admin:integrations_linkedinaccount_delete", args=[account.pk])).status_code == 200
    assert delete(admin_client, "integrations_linkedinaccount", account.pk).status_code == 302
    assert not LinkedInAccount.objects.filter(pk=account.pk).exists()
