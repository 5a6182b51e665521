"""Metric definitions on a hand-built event log, with the numbers worked out by hand."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from leads.models import Event
from reports import selectors
from reports.selectors import Period
from tests import factories

UTC = dt.UTC
PARIS = ZoneInfo("Europe/Paris")


def at(day, hour, minute=0):
    return dt.datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def log(db):
    client = factories.ClientFactory(timezone="Europe/Paris")
    account = factories.AccountFactory(client=client)
    campaign = factories.CampaignFactory(client=client)
    other = factories.CampaignFactory(client=client)
    leads = {n: factories.LeadFactory(campaign=campaign) for n in range(1, 6)}
    stray = factories.LeadFactory(campaign=other)

    def event(lead, type, when, **data):
        Event.objects.create(lead=lead, account=account, type=type, occurred_at=when, data=data)

    l1, l2, l3, l4, l5 = (leads[n] for n in range(1, 6))
    event(l1, "invite_sent", at(9, 9), step=1, variant="A")
    event(l1, "invite_accepted", at(9, 19))
    event(l1, "message_sent", at(10, 9), step=2, variant="A")
    event(l1, "reply_received", at(10, 13))
    event(l1, "reply_received", at(10, 14))
    event(l2, "invite_sent", at(9, 10), step=1, variant="B")
    event(l2, "invite_accepted", at(11, 10))
    event(l2, "message_sent", at(12, 9), step=2, variant="A")
    event(l3, "invite_sent", at(10, 8), step=1, variant="A")
    event(l4, "invite_sent", at(10, 9), step=1, variant="B")
    event(l4, "reply_received", at(10, 11))
    event(l5, "invite_sent", at(8, 22, 30), step=1, variant="A")  # 23:30 in Paris on the 8th: before the range
    event(l5, "invite_accepted", at(9, 0, 30))  # 01:30 in Paris on the 9th: inside
    event(l3, "message_sent", at(15, 23, 30), step=2, variant="A")  # 00:30 in Paris on the 16th: after
    event(stray, "invite_sent", at(10, 9), step=1, variant="A")  # another campaign
    return campaign, account, Period(dt.date(2026, 11, 9), dt.date(2026, 11, 15), PARIS)


def test_campaign_summary(log):
    campaign, _account, period = log
    s = selectors.summary(selectors.campaign_scope(campaign), period)
    assert (s.invitations_sent, s.invited, s.accepted) == (4, 4, 3)
    assert s.acceptance_rate == 0.75
    assert (s.messages_sent, s.messaged) == (2, 2)
    assert (s.replies, s.replied) == (3, 2)
    assert s.reply_rate_invited == 0.5 and s.reply_rate_connected == 0.6667
    assert s.funnel == [("Invited", 4), ("Accepted", 3), ("Messaged", 2), ("Replied", 2)]
    assert s.time_to_acceptance == {"median_hours": 10.0, "p90_hours": 48.0, "leads": 3}
    assert s.time_to_reply == {"median_hours": 2.0, "p90_hours": 28.0, "leads": 2}


def test_daily_series_uses_the_clients_days(log):
    campaign, _account, period = log
    series = {row["day"]: row for row in selectors.daily_series(selectors.campaign_scope(campaign), period)}
    assert len(series) == 7
    assert series[dt.date(2026, 11, 9)] == {
        "day": dt.date(2026, 11, 9),
        "invites": 2,
        "accepted": 2,
        "messages": 0,
        "replies": 0,
    }
    assert series[dt.date(2026, 11, 10)] == {
        "day": dt.date(2026, 11, 10),
        "invites": 2,
        "accepted": 0,
        "messages": 1,
        "replies": 3,
    }
    assert series[dt.date(2026, 11, 11)]["accepted"] == 1
    assert series[dt.date(2026, 11, 12)]["messages"] == 1
    assert sum(row["messages"] for row in series.values()) == 2  # the one on the 16th (Paris) is outside


def test_replies_by_step_and_variant(log):
    campaign, _account, period = log
    table = selectors.step_variants(selectors.campaign_scope(campaign), period)
    named = {"campaign": campaign.pk, "step_id": None}  # the log's events name steps this campaign does not have
    assert table == [
        {**named, "step": 1, "label": "Step 1", "variant": "A", "sent": 2, "leads": 2, "replies": 0, "replied": 0,
         "reply_rate": 0.0},
        {**named, "step": 1, "label": "Step 1", "variant": "B", "sent": 2, "leads": 2, "replies": 1, "replied": 1,
         "reply_rate": 0.5},
        {**named, "step": 2, "label": "Step 2", "variant": "A", "sent": 2, "leads": 2, "replies": 2, "replied": 1,
         "reply_rate": 0.5},
    ]  # fmt: skip
    step = factories.StepFactory(campaign=campaign, position=2, label="Follow-up", parent=None)
    labels = [row["label"] for row in selectors.step_variants(selectors.campaign_scope(campaign), period)]
    assert labels == ["Step 1", "Step 1", "2. Follow-up"] and step.pk


def test_a_reply_after_a_message_outside_the_sequence_is_credited_to_no_step(log):
    campaign, account, period = log
    lead = factories.LeadFactory(campaign=campaign)
    Event.objects.create(lead=lead, account=account, type="message_sent", occurred_at=at(12, 9), data={})
    Event.objects.create(lead=lead, account=account, type="reply_received", occurred_at=at(12, 10))
    table = selectors.step_variants(selectors.campaign_scope(campaign), period)
    assert [(row["step"], row["variant"]) for row in table] == [(1, "A"), (1, "B"), (2, "A")]
    assert sum(row["replies"] for row in table) == 3


def test_summaries_by_campaign_compare_campaigns(log):
    campaign, account, period = log
    rows = selectors.summaries_by_campaign(selectors.client_scope(campaign.client), period)
    mine = rows[campaign.pk]
    # The same definitions as the campaign's own summary, figure for figure.
    assert (mine.invitations_sent, mine.invited, mine.accepted, mine.messages_sent, mine.messaged) == (4, 4, 3, 2, 2)
    assert (mine.replies, mine.replied, mine.acceptance_rate, mine.reply_rate_connected) == (3, 2, 0.75, 0.6667)
    other = next(pk for pk in rows if pk != campaign.pk)
    assert rows[other].invited == 1 and rows[other].replied == 0
    by_account = selectors.account_results(type(account).objects.filter(pk=account.pk), period)
    # The leads whose first outreach the account sent: invited in the week, and of those accepted and replied.
    assert (by_account[account.pk].invited, by_account[account.pk].accepted, by_account[account.pk].replied) == (
        5,
        3,
        2,
    )


def test_empty_range_gives_zeros_and_no_rates(log):
    campaign, _account, _period = log
    empty = Period(dt.date(2026, 1, 1), dt.date(2026, 1, 7), PARIS)
    s = selectors.summary(selectors.campaign_scope(campaign), empty)
    assert s.invited == 0 and s.acceptance_rate is None and s.time_to_reply["median_hours"] is None


def test_event_campaign_is_copied_from_the_lead(log):
    campaign, _account, _period = log
    assert not Event.objects.filter(lead__campaign=campaign).exclude(campaign=campaign).exists()


@pytest.fixture
def stepless(log):
    """What a staff reply, a send-failed event, a removed account and an old import leave in the log."""
    campaign, account, period = log
    lead = campaign.leads.first()
    Event.objects.create(lead=lead, account=account, type="message_sent", occurred_at=at(11, 9), data={"step": None})
    Event.objects.create(lead=lead, account=None, type="message_sent", occurred_at=at(11, 10), data={})
    Event.objects.create(lead=lead, type="message_sent", occurred_at=at(11, 11), data={"step": "", "variant": None})
    Event.objects.create(lead=lead, type="invite_sent", occurred_at=at(11, 12), data={"step": "x", "variant": 7})
    Event.objects.create(lead=lead, type="reply_received", occurred_at=at(11, 13), data={})
    Event.objects.create(lead=lead, type="send_failed", occurred_at=at(11, 14), data={"step": None, "kind": "retry"})
    return campaign, account, period


def test_every_analytics_path_takes_events_with_no_step_variant_or_account(stepless):
    campaign, _account, period = stepless
    scope = selectors.campaign_scope(campaign)
    steps = selectors.step_variants(scope, period)
    assert all(isinstance(row["step"], int) for row in steps)
    assert {row["step"] for row in steps if row["sent"]} >= {1, 2}
    assert selectors.summary(scope, period).messages_sent >= 5
    assert selectors.summaries_by_campaign(scope, period)[campaign.pk]
    assert selectors.account_results(campaign.client.linkedin_accounts.all(), period)
    assert selectors.daily_series(scope, period)
    assert selectors.summary(selectors.client_scope(campaign.client), period).messages_sent >= 5


def test_the_report_pages_api_and_email_take_a_staff_reply(stepless, admin_client):
    from reports.emails import weekly_content

    campaign, _account, _period = stepless
    page = admin_client.get(
        f"/reports/?client={campaign.client.pk}&campaign={campaign.pk}&start=2026-11-09&end=2026-11-15"
    )
    assert page.status_code == 200
    api = admin_client.get(f"/api/v1/reports/campaigns/{campaign.pk}/summary?start=2026-11-09&end=2026-11-15")
    assert api.status_code == 200, api.content
    assert weekly_content(campaign.client, "2026-W46").campaigns


def test_a_client_without_campaigns_has_empty_figures_not_a_500(db):
    client = factories.ClientFactory()
    period = Period(dt.date(2026, 11, 9), dt.date(2026, 11, 15), PARIS)
    assert selectors.summaries_by_campaign(selectors.client_scope(client), period) == {}
