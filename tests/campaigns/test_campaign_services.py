import pytest

from campaigns.models import Campaign, Step
from campaigns.services import (
    CampaignActionRefused,
    OutboundActionRefused,
    campaign_activate,
    campaign_archive,
    campaign_duplicate,
    campaign_pause,
    campaign_preview,
    campaign_problems,
    campaign_resume,
    outbound_action_cancel,
    outbound_action_retry,
)
from tests.factories import AccountFactory, CampaignFactory, LeadFactory, OutboundActionFactory, StepFactory

pytestmark = pytest.mark.django_db


def messages(campaign):
    return [str(p) for p in campaign_problems(campaign)]


def test_ready_campaign_activates_and_makes_pending_leads_due(campaign):
    lead = LeadFactory(campaign=campaign)
    campaign_activate(campaign=campaign)
    campaign.refresh_from_db()
    lead.refresh_from_db()
    assert campaign.status == "active" and campaign.activated_at is not None
    assert lead.next_action_at is not None


def test_activation_lists_every_problem():
    campaign = CampaignFactory(kind=Campaign.Kind.MESSENGER)
    with pytest.raises(CampaignActionRefused) as exc:
        campaign_activate(campaign=campaign)
    assert {str(p) for p in exc.value.problems} == {
        "No sender accounts: add at least one LinkedIn account.",
        "No steps: add at least one step.",
    }
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_messenger_campaign_with_invite_step_is_refused():
    campaign = CampaignFactory(kind=Campaign.Kind.MESSENGER)
    campaign.senders.add(AccountFactory(client=campaign.client))
    StepFactory(campaign=campaign, position=1, action=Step.Action.INVITE, template="")
    assert any("cannot have an invitation step" in m for m in messages(campaign))


def test_connector_without_invitation_or_message_before_it():
    campaign = CampaignFactory()
    campaign.senders.add(AccountFactory(client=campaign.client))
    StepFactory(campaign=campaign, position=1, action=Step.Action.MESSAGE)
    assert "A connector campaign needs an invitation step." in messages(campaign)
    StepFactory(campaign=campaign, position=2, action=Step.Action.INVITE, template="")
    assert any("before the invitation" in m for m in messages(campaign))


def test_sender_of_another_client_is_a_problem(campaign):
    campaign.senders.add(AccountFactory())
    assert any("belongs to another client" in m for m in messages(campaign))


def test_template_that_fails_for_some_leads_lists_them(campaign):
    ok = LeadFactory(campaign=campaign, first_name="Ann")
    blank = LeadFactory(campaign=campaign, first_name="")
    problems = campaign_problems(campaign)
    assert len(problems) == 1
    assert problems[0].lead_ids == [blank.pk] and problems[0].lead_count == 1
    assert "Step 1 variant A" in problems[0].message and "no value" in problems[0].message
    assert ok.pk not in problems[0].lead_ids


def test_broken_template_is_reported_once_not_per_lead(campaign):
    LeadFactory.create_batch(3, campaign=campaign)
    Step.objects.filter(campaign=campaign, position=2).update(template="Thanks {first_name")
    assert messages(campaign) == ["Step 2 variant A: An unmatched { or } would be sent as it is."]


def test_invite_note_too_long_for_a_lead_is_a_problem(campaign):
    Step.objects.filter(campaign=campaign, position=1).update(template="{company} " + "x" * 280)
    LeadFactory(campaign=campaign, company="A" * 30)
    assert any("LinkedIn allows 300" in m for m in messages(campaign))


def test_state_changes(campaign):
    with pytest.raises(CampaignActionRefused, match="cannot be paused"):
        campaign_pause(campaign=campaign)
    campaign_activate(campaign=campaign)
    campaign_pause(campaign=campaign)
    assert campaign.status == "paused"
    campaign_resume(campaign=campaign)
    assert campaign.status == "active"
    with pytest.raises(CampaignActionRefused, match="not paused"):
        campaign_resume(campaign=campaign)


def test_archive_cancels_queued_actions(campaign):
    lead = LeadFactory(campaign=campaign)
    queued = OutboundActionFactory(lead=lead, status="queued")
    campaign_archive(campaign=campaign)
    queued.refresh_from_db()
    assert queued.status == "cancelled"
    with pytest.raises(CampaignActionRefused):
        campaign_archive(campaign=campaign)
    with pytest.raises(CampaignActionRefused):
        campaign_activate(campaign=campaign)


def test_duplicate_copies_steps_and_senders_not_leads(campaign):
    LeadFactory(campaign=campaign)
    campaign_activate(campaign=campaign)
    copy = campaign_duplicate(campaign=campaign)
    assert copy.status == "draft" and copy.name.endswith("(copy)")
    assert list(copy.steps.values_list("position", "action", "template")) == list(
        campaign.steps.values_list("position", "action", "template")
    )
    assert set(copy.senders.all()) == set(campaign.senders.all())
    assert copy.leads.count() == 0


def test_preview_renders_each_step_for_leads(campaign):
    Step.objects.filter(campaign=campaign, position=2).update(template_b="Variant B for {first_name}")
    leads = LeadFactory.create_batch(4, campaign=campaign)
    rows = campaign_preview(campaign=campaign)
    assert [r.lead for r in rows] == leads
    for row in rows:
        assert row.cells[0].rendered.text == f"Hi {row.lead.first_name}!"
        expected = (
            f"Variant B for {row.lead.first_name}" if row.cells[1].variant == "B" else f"Thanks {row.lead.first_name}"
        )
        assert row.cells[1].rendered.text == expected


def test_retry_and_cancel_actions():
    dead = OutboundActionFactory(status="dead", attempts=5)
    outbound_action_retry(action=dead)
    assert dead.status == "queued" and dead.attempts == 0
    with pytest.raises(OutboundActionRefused):
        outbound_action_retry(action=dead)
    outbound_action_cancel(action=dead)
    assert dead.status == "cancelled"
    claimed = OutboundActionFactory(status="claimed")
    with pytest.raises(OutboundActionRefused, match="cannot be cancelled"):
        outbound_action_cancel(action=claimed)


def test_variable_no_lead_has_is_named_as_unknown(campaign):
    LeadFactory(campaign=campaign, custom_fields={"city": "Paris"})
    Step.objects.filter(campaign=campaign, position=2).update(template="In {city}, {nickname}?")
    found = messages(campaign)
    assert found[0] == "Step 2 variant A: {nickname}: unknown variable 'nickname'."
    assert any("{nickname} has no value" in m and "(1 lead:" in m for m in found)
