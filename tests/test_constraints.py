"""Uniqueness that matters is a database constraint: a duplicate insert fails in the database itself."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from campaigns.models import OutboundAction
from integrations.models import RateUsage, WebhookDelivery
from leads.models import DoNotContact, Event, Lead
from tests.factories import (
    AccountFactory,
    CampaignFactory,
    ClientFactory,
    LeadFactory,
    MembershipFactory,
    StepFactory,
)

pytestmark = pytest.mark.django_db


def _fails(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_outbound_action_unique_per_lead_and_step():
    lead = LeadFactory()
    step = StepFactory(campaign=lead.campaign)
    account = AccountFactory(client=lead.campaign.client)
    OutboundAction.objects.create(lead=lead, step=step, account=account, action="message")
    _fails(lambda: OutboundAction.objects.create(lead=lead, step=step, account=account, action="message"))
    # Inbox replies have no step: several per lead are fine.
    OutboundAction.objects.create(lead=lead, step=None, account=account, action="message")
    OutboundAction.objects.create(lead=lead, step=None, account=account, action="message")


def test_rate_usage_unique_per_account_and_day():
    account = AccountFactory()
    RateUsage.objects.create(account=account, day=dt.date(2026, 11, 20))
    _fails(lambda: RateUsage.objects.create(account=account, day=dt.date(2026, 11, 20)))
    RateUsage.objects.create(account=account, day=dt.date(2026, 11, 21))


def test_event_unique_type_and_external_id_when_set():
    lead = LeadFactory()
    Event.objects.create(lead=lead, type="reply_received", external_id="msg-1")
    _fails(lambda: Event.objects.create(lead=lead, type="reply_received", external_id="msg-1"))
    Event.objects.create(lead=lead, type="message_sent", external_id="msg-1")
    Event.objects.create(lead=lead, type="reply_received", external_id="")
    Event.objects.create(lead=lead, type="reply_received", external_id="")


def test_lead_unique_identifiers_per_campaign_when_set():
    campaign = CampaignFactory()
    LeadFactory(campaign=campaign, public_identifier="ann", provider_id="ACoAAAnn00000001")
    _fails(lambda: LeadFactory(campaign=campaign, public_identifier="ann", provider_id=""))
    _fails(lambda: LeadFactory(campaign=campaign, public_identifier="", provider_id="ACoAAAnn00000001"))
    LeadFactory(campaign=campaign, public_identifier="", provider_id="")
    LeadFactory(campaign=campaign, public_identifier="", provider_id="")
    LeadFactory(campaign=CampaignFactory(), public_identifier="ann")
    assert Lead.objects.filter(public_identifier="ann").count() == 2


def test_membership_unique_per_user_and_client():
    membership = MembershipFactory()
    _fails(lambda: MembershipFactory(user=membership.user, client=membership.client))


def test_do_not_contact_unique_per_client_and_globally():
    client = ClientFactory()
    DoNotContact.objects.create(client=client, kind="email", value="a@b.com")
    _fails(lambda: DoNotContact.objects.create(client=client, kind="email", value="a@b.com"))
    DoNotContact.objects.create(client=None, kind="email", value="a@b.com")
    _fails(lambda: DoNotContact.objects.create(client=None, kind="email", value="a@b.com"))


def test_webhook_delivery_dedupe_key_unique_when_set():
    WebhookDelivery.objects.create(source="messaging", dedupe_key="msg-1")
    _fails(lambda: WebhookDelivery.objects.create(source="messaging", dedupe_key="msg-1"))
    WebhookDelivery.objects.create(source="messaging", dedupe_key="")
    WebhookDelivery.objects.create(source="messaging", dedupe_key="")


def test_step_position_unique_per_campaign():
    step = StepFactory()
    _fails(lambda: StepFactory(campaign=step.campaign, position=step.position))
