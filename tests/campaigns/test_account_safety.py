"""Safety that follows Unipile's guidance: the pending-invitation cap, free accounts, InMail credits, and what a
failing call tells about the account."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from campaigns.engine import planner, sender
from campaigns.engine.invitations import withdraw_over_pending_cap, withdraw_stale_invitations
from campaigns.models import Campaign, OutboundAction
from campaigns.selectors import lead_blocker
from integrations.models import AccountNotice, LinkedInAccount, RateUsage
from integrations.unipile import AccountProblem, LimitReached
from leads.models import Event, Lead
from tests.factories import AccountFactory, CampaignFactory, LeadFactory, StepFactory
from tests.fakes import FakeUnipile

PARIS = ZoneInfo("Europe/Paris")
WEDNESDAY_10 = dt.datetime(2026, 11, 18, 10, 0, tzinfo=PARIS)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(WEDNESDAY_10, tick=False) as traveller:
        yield traveller


@pytest.fixture
def fake():
    return FakeUnipile()


def make_campaign(client_org, account, *steps):
    campaign = CampaignFactory(client=client_org, status=Campaign.Status.ACTIVE, timezone="Europe/Paris")
    campaign.senders.add(account)
    for position, (action, template) in enumerate(steps, start=1):
        StepFactory(campaign=campaign, position=position, action=action, template=template, delay_days=1)
    return campaign


def plan_one(campaign, **fields):
    fields.setdefault("next_action_at", WEDNESDAY_10 - dt.timedelta(minutes=1))
    lead = LeadFactory(campaign=campaign, first_name="Ann", **fields)
    planner.plan_due(now=WEDNESDAY_10)
    return lead


def send(account, fake, now=WEDNESDAY_10):
    return sender.send_for_account(account_id=account.pk, now=now, client=fake)


def test_no_new_invitation_at_the_pending_cap_and_stale_ones_make_room(client_org, fake):
    account = AccountFactory(client=client_org, max_pending_invitations=3, min_seconds_between_actions=10)
    campaign = make_campaign(client_org, account, ("invite", "Hi {first_name}"), ("message", "Thanks"))
    old = [
        LeadFactory(campaign=campaign, status="invited", sender=account, invited_at=WEDNESDAY_10 - dt.timedelta(days=d))
        for d in (40, 30, 2)
    ]
    lead = plan_one(campaign)
    result = send(account, fake)
    assert result.outcome == "blocked" and "3 invitations pending" in result.detail and "at most 3" in result.detail
    assert fake.delivered == [] and RateUsage.objects.filter(account=account, invites__gt=0).count() == 0
    assert "invitations pending" in lead_blocker(Lead.objects.get(pk=lead.pk))

    # The withdrawal job makes room: the oldest ones pending for 21 days or more go first; the recent one stays.
    withdrawn = withdraw_stale_invitations(now=WEDNESDAY_10, client=fake)
    assert withdrawn.withdrawn == 1
    statuses = [Lead.objects.get(pk=o.pk).status for o in old]
    assert statuses == ["withdrawn", "invited", "invited"]
    event = Event.objects.get(type="invite_withdrawn", lead=old[0])
    assert event.data == {"pending_cap": 3, "pending": 3}
    assert send(account, fake).outcome == "sent" and fake.delivered[0][0] == "invite"


def test_the_pending_cap_does_not_hold_back_messages(client_org, fake):
    account = AccountFactory(client=client_org, max_pending_invitations=1)
    LeadFactory(campaign=make_campaign(client_org, account, ("invite", "Hi")), status="invited", sender=account)
    campaign = make_campaign(client_org, account, ("message", "Hello {first_name}"))
    campaign.kind = "messenger"
    campaign.save()
    fake.connected.add("ACoAAPersonM")
    plan_one(campaign, provider_id="ACoAAPersonM")
    assert send(account, fake).outcome == "sent" and fake.delivered == [("message", "ACoAAPersonM", "Hello Ann")]
    assert withdraw_over_pending_cap(account=account, now=WEDNESDAY_10, client=fake).withdrawn == 0  # not stale yet


def test_a_free_account_keeps_notes_under_200_characters_and_fewer_invitations(client_org, fake, settings):
    account = AccountFactory(client=client_org, is_premium=False, weekly_invite_limit=100)
    assert account.invite_note_limit == 200 and account.weekly_invite_cap == settings.FREE_ACCOUNT_WEEKLY_INVITES
    campaign = make_campaign(client_org, account, ("invite", "x" * 250))
    lead = plan_one(campaign)
    result = send(account, fake)
    lead.refresh_from_db()
    assert result.outcome == "lead_error" and fake.delivered == []
    assert "free LinkedIn account" in lead.last_error and "allows 200" in lead.last_error
    assert RateUsage.objects.get(account=account).invites == 0  # the slot was given back

    RateUsage.objects.create(account=account, day=account.today() - dt.timedelta(days=1), invites=80)
    short = make_campaign(client_org, account, ("invite", "Hi"))
    plan_one(short)
    LinkedInAccount.objects.filter(pk=account.pk).update(next_action_after=None)
    blocked = send(account, fake)
    assert blocked.outcome == "blocked" and "a free account" in blocked.detail and "(80)" in blocked.detail
    LinkedInAccount.objects.filter(pk=account.pk).update(is_premium=True)
    assert send(account, fake).outcome == "sent"


def test_an_inmail_step_without_credits_is_skipped_to_the_next_step(client_org, fake):
    account = AccountFactory(client=client_org, unipile_account_id="acc-in")
    campaign = make_campaign(client_org, account, ("inmail", "Hello {first_name}"), ("visit", ""))
    fake.inmail_balance["acc-in"] = 0
    lead = plan_one(campaign, provider_id="ACoAAPersonI")
    result = send(account, fake)
    lead.refresh_from_db()
    assert result.outcome == "skipped" and "no InMail credits" in result.detail
    assert fake.delivered == [] and fake.calls_of("start_chat") == []
    skipped = Event.objects.get(type="step_skipped", lead=lead)
    assert skipped.data["step"] == 1 and "no InMail credits" in skipped.data["reason"]
    assert lead.current_step == 1 and lead.status == "pending" and lead.next_action_at is not None
    assert OutboundAction.objects.get(lead=lead, step__position=1).status == "cancelled"
    assert RateUsage.objects.get(account=account).inmails == 0
    account.refresh_from_db()
    assert account.inmail_credits == 0 and account.inmail_credits_checked_at is not None

    # Within the hour the stored balance is used: no second balance call.
    other = plan_one(campaign, provider_id="ACoAAPersonJ")
    LinkedInAccount.objects.filter(pk=account.pk).update(next_action_after=None)
    assert send(account, fake).outcome == "skipped" and len(fake.calls_of("inmail_credits")) == 1
    assert Event.objects.filter(type="step_skipped", lead=other).exists()


def test_an_unknown_balance_means_try_and_insufficient_credits_skip(client_org, fake):
    account = AccountFactory(client=client_org, unipile_account_id="acc-in")
    campaign = make_campaign(client_org, account, ("inmail", "Hello {first_name}"))
    plan_one(campaign, provider_id="ACoAAPersonK")
    assert send(account, fake).outcome == "sent" and fake.delivered[0][0] == "message"  # balance unknown: try

    account.refresh_from_db()
    LinkedInAccount.objects.filter(pk=account.pk).update(next_action_after=None, inmail_credits_checked_at=None)
    fake.fail_next("start_chat", LimitReached("no credits", status=422, type="insufficient_credits"))
    lead = plan_one(campaign, provider_id="ACoAAPersonL")
    result = send(account, fake)
    account.refresh_from_db()
    lead.refresh_from_db()
    assert result.outcome == "skipped" and not account.paused and account.inmail_credits == 0
    assert lead.status == "completed"  # the InMail was its last step


def test_credits_are_counted_down_after_an_inmail(client_org, fake):
    account = AccountFactory(client=client_org, unipile_account_id="acc-in")
    campaign = make_campaign(client_org, account, ("inmail", "Hello {first_name}"))
    fake.inmail_balance["acc-in"] = 5
    plan_one(campaign, provider_id="ACoAAPersonN")
    assert send(account, fake).outcome == "sent"
    account.refresh_from_db()
    assert account.inmail_credits == 4


@pytest.mark.parametrize(
    ("error_type", "status"),
    [
        ("disconnected_account", "CREDENTIALS"),
        ("checkpoint_error", "CHECKPOINT"),
        ("missing_credentials", "CREDENTIALS"),
    ],
)
def test_a_failing_call_that_says_disconnected_sets_the_status(client_org, fake, error_type, status):
    account = AccountFactory(client=client_org, status="OK")
    campaign = make_campaign(client_org, account, ("invite", "Hi"))
    plan_one(campaign)
    fake.fail_next("get_profile", AccountProblem("logged out", status=401, type=error_type))
    assert send(account, fake).outcome == "account_paused"
    account.refresh_from_db()
    assert account.status == status and account.needs_reconnect and account.paused and account.pause_source == "status"
    assert account.status_changes.get().source == "send"
    assert AccountNotice.objects.filter(account=account, kind="disconnected").count() == 1


def test_a_restricted_account_is_paused_without_a_reconnect(client_org, fake):
    account = AccountFactory(client=client_org, status="OK")
    plan_one(make_campaign(client_org, account, ("invite", "Hi")))
    fake.fail_next("get_profile", AccountProblem("restricted", status=403, type="account_restricted"))
    send(account, fake)
    account.refresh_from_db()
    assert account.paused and account.status == "OK" and not account.needs_reconnect
    assert AccountNotice.objects.count() == 0
