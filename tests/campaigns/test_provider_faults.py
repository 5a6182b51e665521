"""The sender under a provider that behaves like the real one: 429s cool the account down, an acceptance
the profile does not show yet is asked again, and every failed or unknown attempt is on the lead's record."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from campaigns.engine import planner, sender
from campaigns.engine.sender import FailureKind, SendOutcome
from campaigns.models import Campaign, OutboundAction
from campaigns.selectors import lead_blocker
from integrations.models import RateUsage
from integrations.unipile import ProviderUnavailable, RateLimited
from leads.models import Event, EventType
from tests.factories import AccountFactory, CampaignFactory, LeadFactory, StepFactory
from tests.fakes import FakeUnipile

PARIS = ZoneInfo("Europe/Paris")
WEDNESDAY_10 = dt.datetime(2026, 11, 18, 10, 0, tzinfo=PARIS)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(WEDNESDAY_10, tick=False):
        yield


@pytest.fixture
def fake():
    return FakeUnipile()


@pytest.fixture
def world(client_org, settings):
    settings.RATE_LIMIT_COOLDOWN_MINUTES = (5, 15, 60)
    settings.RATE_LIMIT_RESET_MINUTES = 60
    account = AccountFactory(client=client_org, min_seconds_between_actions=10, daily_invite_limit=50)
    campaign = CampaignFactory(
        client=client_org, status=Campaign.Status.ACTIVE, timezone="Europe/Paris", work_end=dt.time(20, 0)
    )
    campaign.senders.add(account)
    StepFactory(campaign=campaign, position=1, action="invite", template="Hi {first_name}")
    StepFactory(campaign=campaign, position=2, action="message", delay_days=0, template="Thanks {first_name}!")
    return campaign, account


def at(**delta):
    return WEDNESDAY_10 + dt.timedelta(**delta)


def send(account, fake, now):
    return sender.send_for_account(account_id=account.pk, now=now, client=fake)


def queue_invites(campaign, n):
    leads = [LeadFactory(campaign=campaign, first_name="Ann", next_action_at=at(minutes=-1)) for _ in range(n)]
    planner.plan_due(now=WEDNESDAY_10)
    return leads


def failures(lead=None):
    events = Event.objects.filter(type=EventType.SEND_FAILED).order_by("occurred_at", "id")
    return list(events.filter(lead=lead) if lead else events)


# --- 1. a 429 cools the account down, not only the action ---


def test_after_a_429_the_account_sends_nothing_until_its_cool_down_ends(world, fake):
    campaign, account = world
    queue_invites(campaign, 3)
    fake.fail_next("send_invitation", RateLimited("slow down", status=429, type="too_many_requests"))
    result = send(account, fake, WEDNESDAY_10)
    assert result.outcome == SendOutcome.COOLING_DOWN
    account.refresh_from_db()
    assert account.cooldown_until == at(minutes=5) and account.rate_limit_strikes == 1
    # No other invitation goes out during the cool-down, to anyone, whatever the spacing says.
    for seconds in (20, 60, 180, 299):
        assert send(account, fake, at(seconds=seconds)).outcome == SendOutcome.COOLING_DOWN
    assert fake.delivered == []
    assert account.pk not in sender.accounts_with_work(at(minutes=2))
    # The action waits for the account without losing a try, and its cap slot was given back. (The one that met
    # the 429: the three leads are due at the same moment, so which one the planner queued first is the database's.)
    action = OutboundAction.objects.get(last_error__startswith="rate limited")
    assert action.status == "queued" and action.attempts == 0 and action.scheduled_for == at(minutes=5)
    assert RateUsage.objects.get(account=account).invites == 0
    assert account.pk in sender.accounts_with_work(at(minutes=5))
    assert send(account, fake, at(minutes=5)).outcome == SendOutcome.SENT


def test_the_cool_down_grows_with_each_429_and_starts_again_after_a_clean_hour(world, fake):
    campaign, account = world
    queue_invites(campaign, 4)
    now = WEDNESDAY_10
    lengths = []
    for _ in range(3):
        fake.fail_next("send_invitation", RateLimited("slow down", status=429))
        assert send(account, fake, now).outcome == SendOutcome.COOLING_DOWN
        account.refresh_from_db()
        lengths.append(round((account.cooldown_until - now).total_seconds() / 60))
        now = account.cooldown_until
    assert lengths == [5, 15, 60]
    assert send(account, fake, now).outcome == SendOutcome.SENT
    # A clean hour later, the next 429 is back to the first step of the ladder.
    later = now + dt.timedelta(minutes=61)
    fake.fail_next("send_invitation", RateLimited("slow down", status=429))
    assert send(account, fake, later).outcome == SendOutcome.COOLING_DOWN
    account.refresh_from_db()
    assert account.cooldown_until == later + dt.timedelta(minutes=5) and account.rate_limit_strikes == 1


def send_slowly(account, fake, monkeypatch, seconds):
    """One tick at WEDNESDAY_10 whose invitation call takes this many seconds (a queue at the provider)."""
    send_invitation = fake.send_invitation
    with time_machine.travel(WEDNESDAY_10, tick=False) as clock:

        def slow(**kwargs):
            monkeypatch.setattr(fake, "send_invitation", send_invitation)
            clock.shift(dt.timedelta(seconds=seconds))
            return send_invitation(**kwargs)

        monkeypatch.setattr(fake, "send_invitation", slow)
        return send(account, fake, WEDNESDAY_10)


def test_the_cool_down_counts_from_the_429_not_from_the_start_of_the_tick(world, fake, monkeypatch):
    """A call that took 40 s to be refused still cools the account for five minutes after the refusal; counted
    from the tick's start, the next invitation would go out 40 s early."""
    campaign, account = world
    queue_invites(campaign, 2)
    fake.fail_next("send_invitation", RateLimited("slow down", status=429, type="too_many_requests"))
    assert send_slowly(account, fake, monkeypatch, 40).outcome == SendOutcome.COOLING_DOWN
    account.refresh_from_db()
    assert account.cooldown_until == at(minutes=5, seconds=40) and account.rate_limited_at == at(seconds=40)
    action = OutboundAction.objects.get(last_error__startswith="rate limited")
    assert action.scheduled_for == at(minutes=5, seconds=40)
    assert send(account, fake, at(minutes=5)).outcome == SendOutcome.COOLING_DOWN
    assert fake.delivered == []
    assert send(account, fake, at(minutes=5, seconds=40)).outcome == SendOutcome.SENT


def test_a_slow_send_moves_the_spacing_by_the_time_it_took(world, fake, monkeypatch):
    campaign, account = world
    queue_invites(campaign, 2)
    assert send_slowly(account, fake, monkeypatch, 40).outcome == SendOutcome.SENT
    account.refresh_from_db()
    # 10 to 15 s of spacing, counted from the answer 40 s after the claim.
    assert at(seconds=50) <= account.next_action_after <= at(seconds=55)
    assert send(account, fake, at(seconds=45)).outcome == SendOutcome.BLOCKED
    assert len(fake.delivered) == 1
    assert send(account, fake, at(seconds=56)).outcome == SendOutcome.SENT


def test_retry_after_sets_the_cool_down_when_linkedin_gives_one(world, fake):
    campaign, account = world
    queue_invites(campaign, 1)
    fake.fail_next("send_invitation", RateLimited("slow down", status=429, retry_after=1200))
    send(account, fake, WEDNESDAY_10)
    account.refresh_from_db()
    assert account.cooldown_until == at(minutes=20)


def test_the_cool_down_is_shown_on_the_leads_and_in_the_record(world, fake):
    campaign, account = world
    lead, waiting = queue_invites(campaign, 2)
    fake.fail_next("send_invitation", RateLimited("slow down", status=429, type="too_many_requests"))
    send(account, fake, WEDNESDAY_10)
    lead.refresh_from_db()
    text = lead_blocker(waiting, now=at(minutes=1))
    assert "cooling down after a rate limit until 09:05 UTC" in text
    [event] = failures(lead)
    assert event.data["kind"] == FailureKind.RATE_LIMITED
    assert (event.data["provider_status"], event.data["provider_type"], event.data["attempt"]) == (
        429,
        "too_many_requests",
        1,
    )


# --- 5. a message right after an acceptance the profile does not show yet ---


@pytest.fixture
def accepted(world, fake):
    campaign, account = world
    lead = LeadFactory(
        campaign=campaign,
        first_name="Ann",
        status="connected",
        current_step=1,
        provider_id="ACoAAann",
        sender=account,
        connected_at=at(minutes=-2),
        next_action_at=at(minutes=-1),
    )
    planner.plan_due(now=WEDNESDAY_10)
    return lead, account


def test_a_lagging_profile_after_an_acceptance_is_asked_again_later(accepted, fake):
    lead, account = accepted
    assert send(account, fake, WEDNESDAY_10).outcome == SendOutcome.RETRY
    lead.refresh_from_db()
    action = OutboundAction.objects.get(lead=lead)
    assert lead.status == "connected"
    assert action.status == "queued" and action.scheduled_for == at(minutes=30) and action.attempts == 0
    assert RateUsage.objects.get(account=account).messages == 0
    # The profile catches up: the message goes out on the next try.
    fake.connected.add("ACoAAann")
    assert send(account, fake, at(minutes=30)).outcome == SendOutcome.SENT
    lead.refresh_from_db()
    assert Event.objects.filter(lead=lead, type="message_sent").count() == 1 and lead.status == "completed"
    assert [e.data["kind"] for e in failures(lead)] == ["not_yet_connected"]


def test_a_profile_that_never_shows_the_connection_errors_the_lead_with_the_history(accepted, fake, settings):
    lead, account = accepted
    now = WEDNESDAY_10
    for minutes in settings.CONNECTION_LAG_RETRY_MINUTES:
        assert send(account, fake, now).outcome == SendOutcome.RETRY
        now += dt.timedelta(minutes=minutes)
    assert send(account, fake, now).outcome == SendOutcome.LEAD_ERROR
    lead.refresh_from_db()
    assert lead.status == "error"
    assert f"after {len(settings.CONNECTION_LAG_RETRY_MINUTES) + 1} checks" in lead.last_error
    assert WEDNESDAY_10.astimezone(dt.UTC).isoformat() in lead.last_error  # the first check is in the history
    kinds = [e.data["kind"] for e in failures(lead)]
    assert kinds == ["not_yet_connected"] * len(settings.CONNECTION_LAG_RETRY_MINUTES) + ["lead_error"]
    assert fake.calls_of("start_chat") == []


def test_a_lead_we_never_saw_accept_is_still_an_error_at_once(world, fake):
    campaign, account = world
    LeadFactory(
        campaign=campaign, first_name="Bo", status="connected", current_step=1, provider_id="ACoAAbo",
        sender=account, next_action_at=at(minutes=-1),
    )  # fmt: skip
    planner.plan_due(now=WEDNESDAY_10)
    assert send(account, fake, WEDNESDAY_10).outcome == SendOutcome.LEAD_ERROR


# --- 6. fault history ---


def test_an_unknown_outcome_is_recorded_and_explained_and_the_error_is_kept_after_success(world, fake, settings):
    campaign, account = world
    [lead] = queue_invites(campaign, 1)
    fake.fail_next("send_invitation", ProviderUnavailable("read timed out"))
    assert send(account, fake, WEDNESDAY_10).outcome == SendOutcome.UNKNOWN
    [event] = failures(lead)
    assert event.data["kind"] == FailureKind.UNKNOWN and event.data["attempt"] == 1
    check_at = at(seconds=settings.SEND_UNKNOWN_GRACE_SECONDS).astimezone(dt.UTC)
    assert f"Outcome unknown: checking with LinkedIn at {check_at:%H:%M} UTC" in lead_blocker(lead, now=at(seconds=30))
    # Checked with LinkedIn: it did not arrive. Recorded too, then retried and sent; the error stays on the action.
    assert send(account, fake, at(minutes=3)).outcome in (SendOutcome.IDLE, SendOutcome.BLOCKED)
    assert [e.data["kind"] for e in failures(lead)] == ["unknown", "not_found"]
    assert send(account, fake, at(hours=2)).outcome == SendOutcome.SENT
    action = OutboundAction.objects.get(lead=lead)
    assert action.status == "sent" and action.last_error == "checked with LinkedIn: it did not arrive"


def test_a_claim_left_by_a_dead_worker_is_explained_as_unknown(world, fake, settings):
    campaign, account = world
    [lead] = queue_invites(campaign, 1)
    claimed = sender.claim_next(account=account, now=WEDNESDAY_10)
    assert isinstance(claimed, OutboundAction)
    assert "Being sent now" in lead_blocker(lead, now=at(seconds=20))
    assert "Outcome unknown (the worker sending it stopped)" in lead_blocker(
        lead, now=at(seconds=settings.SEND_CLAIM_STALE_SECONDS + 1)
    )


def test_nothing_claimed_is_a_typed_answer(world):
    _campaign, account = world
    nothing = sender.claim_next(account=account, now=WEDNESDAY_10)
    assert isinstance(nothing, sender.NotClaimed) and nothing.nothing_due


def test_the_lead_page_lists_the_attempts_that_did_not_go_through(world, fake, admin_client):
    from django.urls import reverse

    campaign, account = world
    [lead] = queue_invites(campaign, 1)
    fake.fail_next("send_invitation", RateLimited("slow down", status=429, type="too_many_requests"))
    send(account, fake, WEDNESDAY_10)
    page = admin_client.get(reverse("admin:leads_lead_change", args=[lead.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "attempts that did not go through" in html.lower()
    assert "rate_limited" in html and "429 too_many_requests" in html
