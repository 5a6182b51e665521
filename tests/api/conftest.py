"""A world of two clients with users in every role, data in both, and API clients per user."""

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from inbox.services import conversation_upsert, message_record
from leads.models import DoNotContact, Event, EventType, LeadStatus
from outreach.api.tokens import api_token_issue
from outreach.models import Membership
from tests import factories


@dataclass
class Side:
    client: object
    account: object
    campaign: object
    lead: object
    event: object
    usage: object
    dnc: object
    membership: object
    conversation: object
    endpoint: object
    source: object


def _side(name: str, admin_user) -> Side:
    client = factories.ClientFactory(name=name, slug=name.lower())
    account = factories.AccountFactory(client=client, name=f"{name} sender")
    campaign = factories.CampaignFactory(client=client, name=f"{name} campaign")
    campaign.senders.add(account)
    factories.StepFactory(campaign=campaign, position=1, action="invite", template="Hi {first_name}!")
    factories.StepFactory(campaign=campaign, position=2, action="message", delay_days=2, template="Thanks {first_name}")
    lead = factories.LeadFactory(
        campaign=campaign,
        first_name="Ada",
        last_name="Lovelace",
        company="Analytical Engines",
        public_identifier=f"ada-{name.lower()}",
    )
    # Fixed names: a search for "ada" must find Ada only (a random company such as "Canada Inc" would match).
    factories.LeadFactory(
        campaign=campaign,
        first_name="Grace",
        last_name="Hopper",
        company="Cobol Works",
        status=LeadStatus.ERROR,
        resume_status="pending",
    )
    event = Event.objects.create(lead=lead, account=account, type=EventType.INVITE_SENT, data={"step": 1})
    usage = factories.RateUsageFactory(account=account, day=timezone.now().date() - dt.timedelta(days=1), invites=3)
    dnc = DoNotContact.objects.create(client=client, kind="email", value=f"no@{name.lower()}.example")
    membership = Membership.objects.create(user=admin_user, client=client, role=Membership.Role.ADMIN)
    conversation = conversation_upsert(
        account=account, chat_id=f"chat-{name}", lead=lead, person_name=f"Ada of {name}", person_provider_id="ACoAAAda"
    )
    message_record(
        conversation=conversation,
        inbound=True,
        text=f"Hello from {name}",
        provider_message_id=f"msg-{name}",
        sent_at=timezone.now(),
    )
    from integrations.models import WebhookEndpoint
    from integrations.outbound import new_secret

    endpoint = WebhookEndpoint.objects.create(
        client=client, url=f"https://hooks.{name.lower()}.example/in", secret=new_secret(), description="CRM"
    )
    from campaigns.models import LeadSource

    source = LeadSource.objects.create(
        campaign=campaign,
        account=account,
        kind="search",
        url="https://www.linkedin.com/search/results/people/?k=1",
        key=f"search:k={name}",
        status="finished",
        stop_reason="end of the results",
    )
    return Side(client, account, campaign, lead, event, usage, dnc, membership, conversation, endpoint, source)


@pytest.fixture
def world(db):
    users = {role: factories.UserFactory(username=f"{role}-a") for role in ("admin", "agent", "viewer")}
    users["outsider"] = factories.UserFactory(username="admin-b")
    users["nobody"] = factories.UserFactory(username="nobody")
    users["super"] = factories.UserFactory(username="root", is_superuser=True, is_staff=True)
    for user in users.values():
        user.save()  # the factory sets the password without saving it; sessions check it
    a = _side("Acme", users["admin"])
    b = _side("Bravo", users["outsider"])
    Membership.objects.create(user=users["agent"], client=a.client, role=Membership.Role.AGENT)
    Membership.objects.create(user=users["viewer"], client=a.client, role=Membership.Role.VIEWER)
    DoNotContact.objects.create(client=None, kind="domain", value="global.example")
    tokens = {name: api_token_issue(user=user)[1] for name, user in users.items()}
    return {"a": a, "b": b, "users": users, "tokens": tokens}


def client_for(world, who: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {world['tokens'][who]}")
    return api


@pytest.fixture
def api(world):
    return lambda who="admin": client_for(world, who)
