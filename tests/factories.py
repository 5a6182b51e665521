import factory
from django.contrib.auth import get_user_model

from campaigns.models import Campaign, OutboundAction, Step
from integrations.models import LinkedInAccount, RateUsage
from leads.models import DoNotContact, Event, Lead
from outreach.models import Client, Membership


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-1")


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Client {n}")
    slug = factory.Sequence(lambda n: f"client-{n}")
    timezone = "Europe/Paris"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    client = factory.SubFactory(ClientFactory)
    role = Membership.Role.AGENT


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LinkedInAccount

    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"Sender {n}")
    unipile_account_id = factory.Sequence(lambda n: f"acc-{n}")
    provider_id = factory.Sequence(lambda n: f"ACoAAOwnAccount{n:06d}")
    status = LinkedInAccount.Status.OK


class RateUsageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RateUsage

    account = factory.SubFactory(AccountFactory)
    day = factory.Faker("date_this_year")


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign
        skip_postgeneration_save = True

    client = factory.SubFactory(ClientFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    kind = Campaign.Kind.CONNECTOR
    timezone = "Europe/Paris"


class StepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Step

    campaign = factory.SubFactory(CampaignFactory)
    position = factory.Sequence(lambda n: n + 1)
    action = Step.Action.MESSAGE
    template = "Hi {first_name}"
    # A linear sequence unless told otherwise: each step after the one with the number before it.
    parent = factory.LazyAttribute(
        lambda o: (
            o.campaign.steps.filter(position__lt=o.position).order_by("-position").first() if o.campaign.pk else None
        )
    )


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    campaign = factory.SubFactory(CampaignFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company = factory.Faker("company")
    title = "Head of Growth"
    public_identifier = factory.Sequence(lambda n: f"person-{n}")


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    lead = factory.SubFactory(LeadFactory)
    type = "invite_sent"


class OutboundActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutboundAction

    lead = factory.SubFactory(LeadFactory)
    account = factory.SubFactory(AccountFactory)
    action = Step.Action.MESSAGE
    text = "Hello"


class DoNotContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DoNotContact

    kind = DoNotContact.Kind.EMAIL
    value = factory.Sequence(lambda n: f"nobody{n}@example.com")
