import datetime as dt

import pytest
from django.utils import timezone

from inbox.ingest import IncomingMessage
from outreach.models import Membership
from tests import factories


def incoming(
    account,
    *,
    message_id,
    text="Sounds good!",
    inbound=True,
    chat_id="chat-1",
    person="ACoAAPerson01",
    name="Ann Lee",
    when=None,
    slug="",
):
    return IncomingMessage(
        account=account,
        chat_id=chat_id,
        message_id=message_id,
        text=text,
        sent_at=when or timezone.now(),
        inbound=inbound,
        person_provider_id=person,
        person_public_identifier=slug,
        person_name=name,
    )


@pytest.fixture
def inbox_world(db):
    """Two clients; an agent and a viewer of the first, an agent of the second; a lead in conversation in each."""
    a = factories.ClientFactory(name="Acme")
    b = factories.ClientFactory(name="Bravo")
    users = {}
    for name, client, role in (("agent", a, "agent"), ("viewer", a, "viewer"), ("other", b, "agent")):
        user = factories.UserFactory(username=name)
        user.save()
        Membership.objects.create(user=user, client=client, role=role)
        users[name] = user
    acc_a = factories.AccountFactory(client=a, name="Sofia Sender")
    acc_b = factories.AccountFactory(client=b, name="Bruno Sender")
    camp_a = factories.CampaignFactory(client=a, status="active", name="Founders")
    camp_a.senders.add(acc_a)
    factories.StepFactory(campaign=camp_a, position=1, action="message", template="Hi {first_name}")
    camp_b = factories.CampaignFactory(client=b, status="active", name="Bravo campaign")
    lead_a = factories.LeadFactory(
        campaign=camp_a,
        first_name="Ann",
        last_name="Lee",
        provider_id="ACoAAPerson01",
        status="messaged",
        sender=acc_a,
        chat_id="chat-1",
        current_step=1,
    )
    lead_b = factories.LeadFactory(
        campaign=camp_b,
        first_name="Bob",
        last_name="Ray",
        provider_id="ACoAAPerson02",
        status="messaged",
        sender=acc_b,
        chat_id="chat-b",
    )
    return {
        "a": a,
        "b": b,
        "users": users,
        "acc_a": acc_a,
        "acc_b": acc_b,
        "lead_a": lead_a,
        "lead_b": lead_b,
        "camp_a": camp_a,
        "when": timezone.now() - dt.timedelta(minutes=5),
    }
