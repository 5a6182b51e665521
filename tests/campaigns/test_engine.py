"""Planner and sender, outcome by outcome, against the fake provider."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from campaigns.engine import planner, sender
from campaigns.engine.invitations import withdraw_stale_invitations
from campaigns.models import Campaign, OutboundAction, Step
from campaigns.selectors import lead_blocker
from integrations.models import RateUsage
from integrations.unipile import (
    AccountProblem,
    AlreadyDone,
    LimitReached,
    ProviderUnavailable,
    RecipientProblem,
)
from leads.models import DoNotContact, Event, Lead
from leads.services import lead_mark_replied
from tests.factories import AccountFactory, CampaignFactory, LeadFactory, RateUsageFactory, StepFactory
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


@pytest.fixture
def setup(client_org):
    account = AccountFactory(client=client_org, min_seconds_between_actions=60, daily_invite_limit=25)
    campaign = CampaignFactory(client=client_org, status=Campaign.Status.ACTIVE, timezone="Europe/Paris")
    campaign.senders.add(account)
    StepFactory(campaign=campaign, position=1, action="invite", template="Hi {first_name}", withdraw_after_days=14)
    StepFactory(campaign=campaign, position=2, action="message", delay_days=1, template="Thanks {first_name}!")
    StepFactory(campaign=campaign, position=3, action="message", delay_days=2, template="Any thoughts, {first_name}?")
    return campaign, account


def due_lead(campaign, **fields):
    fields.setdefault("next_action_at", WEDNESDAY_10 - dt.timedelta(minutes=1))
    return LeadFactory(campaign=campaign, first_name="Ann", **fields)


def send(account, fake, now=WEDNESDAY_10):
    return sender.send_for_account(account_id=account.pk, now=now, client=fake)


def later(now, **delta):
    return now + dt.timedelta(**delta)


# --- planner ---


def test_planner_queues_the_next_step_once(setup):
    campaign, account = setup
    lead = due_lead(campaign)
    result = planner.plan_due(now=WEDNESDAY_10)
    assert result.planned == 1
    action = OutboundAction.objects.get(lead=lead)
    assert (action.step.position, action.action, action.text, action.account) == (1, "invite", "Hi Ann", account)
    lead.refresh_from_db()
    assert lead.next_action_at is None and lead.sender == account
    assert planner.plan_due(now=WEDNESDAY_10).planned == 0
    Lead.objects.filter(pk=lead.pk).update(next_action_at=WEDNESDAY_10)
    assert planner.plan_due(now=WEDNESDAY_10).waiting == 1
    assert OutboundAction.objects.filter(lead=lead).count() == 1


def test_planner_skips_what_must_not_be_planned(setup, client_org):
    campaign, _ = setup
    paused = CampaignFactory(client=client_org, status=Campaign.Status.PAUSED)
    StepFactory(campaign=paused, position=1, action="invite", template="")
    due_lead(paused)
    for status in ("replied", "opted_out", "do_not_contact", "invited", "error", "paused"):
        due_lead(campaign, status=status)
    due_lead(campaign, next_action_at=later(WEDNESDAY_10, hours=1))
    assert planner.plan_due(now=WEDNESDAY_10).planned == 0
    assert not OutboundAction.objects.exists()


def test_planner_stops_leads_on_the_do_not_contact_list(setup):
    campaign, _ = setup
    lead = due_lead(campaign, email="x@blocked.io")
    DoNotContact.objects.create(client=None, kind="domain", value="blocked.io")
    assert planner.plan_due(now=WEDNESDAY_10).stopped == 1
    lead.refresh_from_db()
    assert lead.status == "do_not_contact" and not OutboundAction.objects.exists()


def test_planner_errors_a_lead_whose_template_cannot_render(setup):
    campaign, _ = setup
    lead = due_lead(campaign)
    Lead.objects.filter(pk=lead.pk).update(first_name="")
    assert planner.plan_due(now=WEDNESDAY_10).errors == 1
    lead.refresh_from_db()
    assert lead.status == "error" and "{first_name} has no value" in lead.last_error


def test_planner_completes_a_lead_with_no_step_left(setup):
    campaign, _ = setup
    lead = due_lead(campaign, status="messaged", current_step=3)
    assert planner.plan_due(now=WEDNESDAY_10).completed == 1
    lead.refresh_from_db()
    assert lead.status == "completed"


def test_new_leads_go_to_the_sender_with_most_room_and_keep_it(setup, client_org):
    campaign, busy = setup
    free = AccountFactory(client=client_org)
    campaign.senders.add(free)
    RateUsageFactory(account=busy, day=busy.today(WEDNESDAY_10), invites=20)
    leads = [due_lead(campaign) for _ in range(4)]
    planner.plan_due(now=WEDNESDAY_10)
    assert [OutboundAction.objects.get(lead=lead).account for lead in leads].count(free) == 4
    sticky = due_lead(campaign, sender=busy, status="connected", current_step=1)
    planner.plan_due(now=WEDNESDAY_10)
    assert OutboundAction.objects.get(lead=sticky).account == busy


def test_a_dead_step_is_queued_again_when_the_lead_is_requeued(setup):
    campaign, _account = setup
    lead = due_lead(campaign)
    planner.plan_due(now=WEDNESDAY_10)
    OutboundAction.objects.filter(lead=lead).update(status="dead", attempts=5)
    Lead.objects.filter(pk=lead.pk).update(next_action_at=WEDNESDAY_10)
    assert planner.plan_due(now=WEDNESDAY_10).revived == 1
    action = OutboundAction.objects.get(lead=lead)
    assert action.status == "queued" and action.attempts == 0


def test_planner_queries_do_not_grow_with_the_number_of_leads(setup, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    campaign, _ = setup
    for _ in range(5):
        due_lead(campaign)
    with CaptureQueriesContext(connection) as few:
        planner.plan_due(now=WEDNESDAY_10)
    OutboundAction.objects.all().delete()
    Lead.objects.update(next_action_at=WEDNESDAY_10, sender=None)  # the same work as the first run
    LeadFactory.create_batch(300, campaign=campaign, next_action_at=later(WEDNESDAY_10, days=3))
    with CaptureQueriesContext(connection) as many:
        planner.plan_due(now=WEDNESDAY_10)
    assert len(many) == len(few)


# --- sender outcomes ---


def planned(campaign, **fields):
    lead = due_lead(campaign, **fields)
    planner.plan_due(now=WEDNESDAY_10)
    return lead, OutboundAction.objects.get(lead=lead, status="queued")


def test_sent_invitation(setup, fake):
    campaign, account = setup
    lead, action = planned(campaign)
    result = send(account, fake)
    assert result.outcome == "sent"
    action.refresh_from_db()
    lead.refresh_from_db()
    account.refresh_from_db()
    assert action.status == "sent" and action.invitation_id.startswith("inv") and action.attempts == 1
    assert lead.status == "invited" and lead.invited_at == WEDNESDAY_10 and lead.next_action_at is None
    assert lead.provider_id == "ACoAA" + lead.public_identifier.replace("-", "")
    event = Event.objects.get(type="invite_sent")
    assert event.external_id == action.invitation_id and event.data["step"] == 1
    assert RateUsage.objects.get(account=account).invites == 1
    assert account.next_action_after >= later(WEDNESDAY_10, seconds=60)
    assert fake.delivered == [("invite", lead.provider_id, "Hi Ann")]


def test_messages_after_acceptance_then_completed(setup, fake):
    campaign, account = setup
    lead = due_lead(campaign, status="connected", current_step=1, provider_id="ACoAAann", sender=account)
    fake.connected.add("ACoAAann")
    planner.plan_due(now=WEDNESDAY_10)
    assert send(account, fake).outcome == "sent"
    lead.refresh_from_db()
    assert lead.status == "messaged" and lead.chat_id.startswith("chat")
    assert lead.next_action_at == dt.datetime(2026, 11, 20, 10, 0, tzinfo=PARIS)  # 2 working days later
    friday = lead.next_action_at
    planner.plan_due(now=friday)
    assert send(account, fake, now=friday).outcome == "sent"
    lead.refresh_from_db()
    assert lead.status == "completed" and [c["chat_id"] for c in fake.calls_of("send_message")] == [lead.chat_id]
    assert [e.type for e in Event.objects.filter(lead=lead).order_by("id")].count("message_sent") == 2


def test_outside_working_hours_nothing_is_claimed(setup, fake):
    campaign, account = setup
    planned(campaign)
    evening = dt.datetime(2026, 11, 18, 19, 0, tzinfo=PARIS)
    result = send(account, fake, now=evening)
    assert result.outcome == "blocked" and "outside working hours" in result.detail
    assert fake.calls == [] and not RateUsage.objects.filter(invites__gt=0).exists()


def test_spacing_between_actions(setup, fake):
    campaign, account = setup
    planned(campaign)
    planned(campaign)
    assert send(account, fake).outcome == "sent"
    result = send(account, fake, now=later(WEDNESDAY_10, seconds=30))
    assert result.outcome == "blocked" and "spacing" in result.detail
    assert send(account, fake, now=later(WEDNESDAY_10, seconds=95)).outcome == "sent"


def test_daily_and_weekly_caps_hold(setup, fake):
    campaign, account = setup
    account.daily_invite_limit, account.weekly_invite_limit = 2, 3
    account.save()
    for _ in range(4):
        planned(campaign)
    RateUsageFactory(account=account, day=account.today(WEDNESDAY_10) - dt.timedelta(days=2), invites=1)
    moment = WEDNESDAY_10
    outcomes = []
    for _ in range(4):
        moment = later(moment, minutes=5)
        outcomes.append(send(account, fake, now=moment))
    assert [o.outcome for o in outcomes] == ["sent", "sent", "blocked", "blocked"]
    assert "cap reached" in outcomes[2].detail
    assert RateUsage.objects.get(account=account, day=account.today(WEDNESDAY_10)).invites == 2
    thursday = later(WEDNESDAY_10, days=1)
    blocked = send(account, fake, now=thursday)
    assert "weekly invitation cap" in blocked.detail


def test_warm_up_ramps_the_daily_cap(setup, fake, settings):
    campaign, account = setup
    settings.WARMUP_START_PER_DAY, settings.WARMUP_INCREASE_PER_DAY = 1, 1
    account.warmup_started_on = account.today(WEDNESDAY_10)
    account.save()
    planned(campaign)
    planned(campaign)
    assert send(account, fake).outcome == "sent"
    assert "cap reached" in send(account, fake, now=later(WEDNESDAY_10, minutes=5)).detail


def test_timeout_after_the_invitation_reached_linkedin_is_not_sent_again(setup, fake):
    campaign, account = setup
    _lead, action = planned(campaign)
    planned(campaign)
    fake.fail_next("send_invitation", ProviderUnavailable("timed out"), after_acting=True)
    assert send(account, fake).outcome == "unknown"
    action.refresh_from_db()
    assert action.status == "claimed" and action.outcome_unknown
    # Within the grace period a late-landing request is still possible: nothing else is sent.
    assert send(account, fake, now=later(WEDNESDAY_10, seconds=60)).outcome == "unknown"
    assert len(fake.calls_of("send_invitation")) == 1
    # After it, the sent-invitations list settles it as sent; then the next action goes.
    assert send(account, fake, now=later(WEDNESDAY_10, minutes=3)).outcome == "sent"
    action.refresh_from_db()
    assert action.status == "sent" and action.invitation_id and action.sent_at == later(WEDNESDAY_10, minutes=3)
    assert len({pid for _k, pid, _t in fake.delivered}) == len(fake.delivered) == 2
    assert RateUsage.objects.get(account=account).invites == 2


def test_timeout_before_acting_is_retried_once_confirmed_absent(setup, fake):
    campaign, account = setup
    _lead, action = planned(campaign)
    fake.fail_next("send_invitation", ProviderUnavailable("503", status=503))
    assert send(account, fake).outcome == "unknown"
    assert send(account, fake, now=later(WEDNESDAY_10, minutes=3)).outcome in ("idle", "blocked")
    action.refresh_from_db()
    assert action.status == "failed" and RateUsage.objects.get(account=account).invites == 0
    assert send(account, fake, now=later(WEDNESDAY_10, hours=2)).outcome == "sent"
    assert len(fake.delivered) == 1


def test_unknown_outcome_blocks_the_account_until_the_provider_answers(setup, fake):
    campaign, account = setup
    _lead, action = planned(campaign)
    planned(campaign)
    fake.fail_next("send_invitation", ProviderUnavailable("timed out"))
    assert send(account, fake).outcome == "unknown"
    fake.fail_next("list_sent_invitations", ProviderUnavailable("down"))
    assert send(account, fake, now=later(WEDNESDAY_10, minutes=3)).outcome == "unknown"
    action.refresh_from_db()
    assert action.status == "claimed" and action.outcome_unknown and "check failed" in action.last_error
    assert len(fake.calls_of("send_invitation")) == 1
    # The provider answers: it was not sent; it goes back to the queue and the other lead goes first.
    result = send(account, fake, now=later(WEDNESDAY_10, minutes=6))
    action.refresh_from_db()
    assert action.status == "failed" and result.outcome == "sent"
    assert len(fake.delivered) == 1


def test_a_worker_that_died_mid_send(setup, fake, settings):
    campaign, account = setup
    lead_a, sent_before = planned(campaign)
    _lead_b, never_sent = planned(campaign)
    # Worker 1 claimed and sent A, then died before recording; worker 2 claimed B and died before sending.
    fake.send_invitation(
        account_id=account.unipile_account_id, provider_id=fake.provider_id_for(lead_a.public_identifier)
    )
    Lead.objects.filter(pk=lead_a.pk).update(provider_id=fake.provider_id_for(lead_a.public_identifier))
    claimed_at = later(WEDNESDAY_10, minutes=-30)
    OutboundAction.objects.filter(pk__in=[sent_before.pk, never_sent.pk]).update(
        status="claimed", claimed_at=claimed_at, attempts=1
    )
    fake.calls.clear()
    result = send(account, fake)
    sent_before.refresh_from_db()
    never_sent.refresh_from_db()
    assert sent_before.status == "sent"
    assert never_sent.status in ("failed", "sent")
    if never_sent.status == "failed":
        send(account, fake, now=later(WEDNESDAY_10, hours=2))
        never_sent.refresh_from_db()
    assert never_sent.status == "sent"
    assert sorted(d[1] for d in fake.delivered) == sorted({d[1] for d in fake.delivered})  # nobody twice
    assert result.outcome in ("sent", "idle", "blocked")


def test_limit_reached_pauses_the_account_until_tomorrow(setup, fake):
    campaign, account = setup
    _lead, action = planned(campaign)
    fake.fail_next("send_invitation", LimitReached("weekly limit", status=422, type="limit_exceeded"))
    assert send(account, fake).outcome == "account_paused"
    account.refresh_from_db()
    action.refresh_from_db()
    assert account.paused and account.pause_source == "provider" and "limit_exceeded" in account.paused_reason
    assert account.paused_until == dt.datetime(2026, 11, 19, 0, 0, tzinfo=PARIS)
    assert action.status == "queued" and action.attempts == 0
    assert RateUsage.objects.get(account=account).invites == 0
    assert send(account, fake, now=later(WEDNESDAY_10, hours=1)).outcome == "not_ready"
    thursday = dt.datetime(2026, 11, 19, 9, 30, tzinfo=PARIS)
    assert send(account, fake, now=thursday).outcome == "sent"
    account.refresh_from_db()
    assert not account.paused


def test_account_problem_pauses_until_an_operator_resumes(setup, fake):
    campaign, account = setup
    planned(campaign)
    fake.fail_next("get_profile", AccountProblem("disconnected", status=401, type="disconnected_account"))
    assert send(account, fake).outcome == "account_paused"
    account.refresh_from_db()
    assert account.paused and account.pause_source == "status" and account.paused_until is None


def test_recipient_problem_makes_the_lead_an_error(setup, fake):
    campaign, account = setup
    lead, action = planned(campaign)
    fake.fail_next("send_invitation", RecipientProblem("blocked", status=422, type="blocked_recipient"))
    assert send(account, fake).outcome == "lead_error"
    lead.refresh_from_db()
    action.refresh_from_db()
    assert lead.status == "error" and "blocked_recipient" in lead.last_error and action.status == "dead"
    assert RateUsage.objects.get(account=account).invites == 0


def test_already_invited_counts_as_done(setup, fake):
    campaign, account = setup
    lead, action = planned(campaign)
    fake.fail_next("send_invitation", AlreadyDone("recently", status=422, type="already_invited_recently"))
    assert send(account, fake).outcome == "skipped"
    lead.refresh_from_db()
    action.refresh_from_db()
    assert lead.status == "invited" and action.status == "sent"
    assert Event.objects.get(type="invite_sent").data["already_done"] == "already_invited_recently"


def test_existing_connection_skips_the_invitation(setup, fake):
    campaign, account = setup
    lead, action = planned(campaign)
    fake.connected.add(fake.provider_id_for(lead.public_identifier))
    assert send(account, fake).outcome == "skipped"
    lead.refresh_from_db()
    action.refresh_from_db()
    assert lead.status == "connected" and lead.current_step == 1 and lead.next_action_at == WEDNESDAY_10
    assert action.status == "cancelled" and fake.calls_of("send_invitation") == []
    assert RateUsage.objects.get(account=account).invites == 0


def test_pending_invitation_counts_as_invited(setup, fake):
    campaign, account = setup
    lead, _ = planned(campaign)
    fake.pending[fake.provider_id_for(lead.public_identifier)] = "inv-old"
    assert send(account, fake).outcome == "skipped"
    lead.refresh_from_db()
    assert lead.status == "invited" and fake.calls_of("send_invitation") == []


def test_messenger_lead_that_is_not_a_connection_becomes_an_error(client_org, fake):
    account = AccountFactory(client=client_org)
    campaign = CampaignFactory(client=client_org, kind="messenger", status="active", timezone="Europe/Paris")
    campaign.senders.add(account)
    StepFactory(campaign=campaign, position=1, action="message", template="Hello {first_name}")
    lead, _ = planned(campaign)
    assert send(account, fake).outcome == "lead_error"
    lead.refresh_from_db()
    assert lead.status == "error" and "1st-degree" in lead.last_error and fake.calls_of("start_chat") == []


def test_dry_run_calls_nothing(setup, fake):
    campaign, account = setup
    Campaign.objects.filter(pk=campaign.pk).update(dry_run=True)
    lead, _ = planned(campaign)
    assert send(account, fake).outcome == "sent"
    lead.refresh_from_db()
    assert lead.status == "invited" and fake.calls == []
    assert Event.objects.get(type="invite_sent").data["dry_run"] is True


def test_a_reply_before_the_send_cancels_the_action(setup, fake):
    campaign, account = setup
    lead, action = planned(campaign)
    lead_mark_replied(lead=lead)
    assert send(account, fake).outcome == "idle"
    action.refresh_from_db()
    assert action.status == "cancelled" and fake.calls == []


def test_paused_lead_waits(setup, fake):
    campaign, account = setup
    lead, action = planned(campaign)
    Lead.objects.filter(pk=lead.pk).update(status="paused", resume_status="pending")
    result = send(account, fake)
    action.refresh_from_db()
    assert result.outcome == "blocked" and action.status == "queued"


# --- stale invitations, blockers, commands ---


def test_stale_invitations_are_withdrawn(setup, fake):
    campaign, account = setup
    lead, _ = planned(campaign)
    send(account, fake)
    assert withdraw_stale_invitations(now=later(WEDNESDAY_10, days=10), client=fake).withdrawn == 0
    result = withdraw_stale_invitations(now=later(WEDNESDAY_10, days=15), client=fake)
    lead.refresh_from_db()
    assert result.withdrawn == 1 and lead.status == "withdrawn"
    assert fake.pending == {} and Event.objects.filter(type="invite_withdrawn", lead=lead).exists()


def test_lead_blocker_explains_why_a_lead_waits(setup, fake):
    campaign, account = setup
    lead, _action = planned(campaign)
    assert "sends it on its next turn" in lead_blocker(lead, now=WEDNESDAY_10)
    assert "outside working hours" in lead_blocker(lead, now=dt.datetime(2026, 11, 18, 20, 0, tzinfo=PARIS))
    account.paused, account.paused_reason = True, "Client holiday"
    account.save()
    assert "paused (Client holiday)" in lead_blocker(lead, now=WEDNESDAY_10)
    account.paused = False
    account.daily_invite_limit = 0
    account.save()
    assert "cap reached" in lead_blocker(lead, now=WEDNESDAY_10)
    account.daily_invite_limit = 25
    account.save()
    send(account, fake)
    lead.refresh_from_db()
    assert "Waiting for the invitation to be accepted" in lead_blocker(lead, now=WEDNESDAY_10)


def test_commands_run_one_tick(setup, fake, capsys, monkeypatch):
    campaign, account = setup
    due_lead(campaign)
    monkeypatch.setattr("integrations.unipile.UnipileClient.from_settings", classmethod(lambda cls, **kw: fake))
    call_command("plan_queue", "--once")
    call_command("send_queue", "--once")
    out = capsys.readouterr().out
    assert "planned 1" in out and f"account {account.pk}: sent" in out
    assert Step.objects.filter(campaign=campaign).count() == 3


def test_follow_ups_go_before_new_invitations(setup, fake):
    campaign, account = setup
    planned(campaign)
    connected = due_lead(campaign, status="connected", current_step=1, provider_id="ACoAAcon", sender=account)
    fake.connected.add("ACoAAcon")
    planner.plan_due(now=later(WEDNESDAY_10, minutes=1))
    assert send(account, fake, now=later(WEDNESDAY_10, minutes=2)).outcome == "sent"
    assert fake.delivered[0][:2] == ("message", "ACoAAcon")
    connected.refresh_from_db()
    assert connected.status == "messaged"
