"""Parity for steps: a step with send history is never destroyed, and a template that cannot be sent is refused
when saved — through the API, the admin's step inline and the activation alike; nothing is written."""

import pytest
from django.db.models import RestrictedError
from django.urls import reverse
from rest_framework.test import APIClient

from campaigns.models import Campaign, OutboundAction, Step
from campaigns.services import CampaignActionRefused, StepInUse, campaign_activate, step_delete
from outreach.api.tokens import api_token_issue
from tests import factories

pytestmark = pytest.mark.django_db
LONG_NOTE = "Hello there, " * 400  # 5,200 characters


@pytest.fixture
def api(admin_user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=admin_user)[1]}")
    return client


@pytest.fixture
def history(campaign, account):
    """Step 2 of the campaign has a sent action."""
    lead = factories.LeadFactory(campaign=campaign)
    step = campaign.steps.get(position=2)
    OutboundAction.objects.create(lead=lead, step=step, account=account, action="message", status="sent")
    return step


def campaign_form(campaign, steps, *, delete=()):
    data = {
        "client": campaign.client_id,
        "name": campaign.name,
        "kind": campaign.kind,
        "senders": [s.pk for s in campaign.senders.all()],
        "timezone": str(campaign.timezone),
        "work_start": "09:00",
        "work_end": "17:00",
        "working_days": ["0", "1", "2", "3", "4"],
        "one_conversation_per_person": "on",
        "steps-TOTAL_FORMS": str(len(steps)),
        "steps-INITIAL_FORMS": str(sum(1 for s in steps if s.get("id"))),
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
    }
    for n, step in enumerate(steps):
        for name in ("id", "position", "action", "delay_days", "delay_hours", "template", "template_b"):
            data[f"steps-{n}-{name}"] = step.get(name, "" if name.startswith("template") or name == "id" else "0")
        data[f"steps-{n}-campaign"] = campaign.pk
        if step.get("id") in delete:
            data[f"steps-{n}-DELETE"] = "on"
    return data


def existing_steps(campaign):
    return [
        {
            "id": s.pk,
            "position": s.position,
            "action": s.action,
            "delay_days": s.delay_days,
            "delay_hours": s.delay_hours,
            "template": s.template,
        }
        for s in campaign.steps.order_by("position")
    ]


# --- steps with history ---


def test_the_api_refuses_to_remove_a_step_with_history(api, campaign, history):
    steps = [{"position": 1, "action": "invite", "template": "Hi {first_name}!"}]
    response = api.patch(f"/api/v1/campaigns/{campaign.pk}", {"steps": steps}, format="json")
    assert response.status_code == 409 and "cannot be removed" in response.json()["message"]
    assert Step.objects.filter(pk=history.pk).exists() and history.actions.count() == 1


def test_the_admin_inline_refuses_to_delete_a_step_with_history(admin_client, campaign, history):
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    response = admin_client.post(url, campaign_form(campaign, existing_steps(campaign), delete={history.pk}))
    assert response.status_code == 200
    # The sequence's history rule speaks, with the reason.
    assert "Step 2 cannot be removed: it already has actions for leads" in response.content.decode()
    assert Step.objects.filter(pk=history.pk).exists() and history.actions.count() == 1


def test_the_service_and_the_database_refuse_too(campaign, history):
    with pytest.raises(StepInUse):
        step_delete(steps=[history])
    with pytest.raises(RestrictedError):
        history.delete()
    assert Step.objects.filter(pk=history.pk).exists()


def test_a_step_without_history_is_deleted_and_positions_can_be_swapped(admin_client, campaign, history):
    first = campaign.steps.get(position=1)
    steps = existing_steps(campaign)
    steps[0]["position"], steps[1]["position"] = 2, 1  # swap: the history moves with its step
    steps[1]["action"], steps[0]["action"] = "invite", "message"
    steps[1]["template"], steps[0]["template"] = "Hi {first_name|there}", "Later {first_name|there}"
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    response = admin_client.post(url, campaign_form(campaign, steps))
    assert response.status_code == 302, response.content.decode()[:3000]
    history.refresh_from_db()
    first.refresh_from_db()
    assert (history.position, first.position) == (1, 2) and history.actions.count() == 1
    response = admin_client.post(url, campaign_form(campaign, existing_steps(campaign), delete={first.pk}))
    assert response.status_code == 302
    assert not Step.objects.filter(pk=first.pk).exists()


def test_deleting_a_whole_campaign_still_takes_its_history_with_it(campaign, history):
    Campaign.objects.filter(pk=campaign.pk).delete()
    assert not OutboundAction.objects.exists()


# --- templates checked when saved ---


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        (LONG_NOTE, "LinkedIn allows 300"),
        ("Hi {first_name", "unmatched { or }"),
        ("Hi {first name!}", "is not a variable"),
    ],
)
def test_a_template_that_cannot_be_sent_is_refused_by_the_api_and_the_admin(
    api, admin_client, campaign, template, problem
):
    before = list(Step.objects.values_list("pk", "template"))
    steps = [{"position": 1, "action": "invite", "template": template}]
    response = api.patch(f"/api/v1/campaigns/{campaign.pk}", {"steps": steps}, format="json")
    assert response.status_code == 400 and problem in str(response.json())
    assert "template" in str(response.json()["details"])
    form_steps = existing_steps(campaign)
    form_steps[0]["template"] = template
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    page = admin_client.post(url, campaign_form(campaign, form_steps))
    assert page.status_code == 200 and problem in page.content.decode()
    assert list(Step.objects.values_list("pk", "template")) == before


def test_an_empty_message_is_refused_when_saved(api, campaign):
    steps = [{"position": 1, "action": "invite"}, {"position": 2, "action": "message", "template": "  "}]
    response = api.patch(f"/api/v1/campaigns/{campaign.pk}", {"steps": steps}, format="json")
    assert response.status_code == 400 and "A message needs a text." in str(response.json())


def test_activation_checks_templates_even_with_zero_leads(campaign):
    step = campaign.steps.get(position=2)
    Step.objects.filter(pk=step.pk).update(template="Hello {role}")  # no lead to say whether {role} exists
    with pytest.raises(CampaignActionRefused) as refused:
        campaign_activate(campaign=campaign)
    assert any("{role} is not a standard field" in str(p) for p in refused.value.problems)
    Step.objects.filter(pk=step.pk).update(template="x " * 200, action="invite", parent=None)
    Step.objects.filter(pk=campaign.steps.get(position=1).pk).delete()
    with pytest.raises(CampaignActionRefused) as refused:
        campaign_activate(campaign=campaign)
    assert any("LinkedIn allows 300" in str(p) for p in refused.value.problems)
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_the_step_form_counts_characters_and_lists_the_variables(admin_client, campaign):
    page = admin_client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert "campaigns/step_counter.js" in page and 'data-note-limit="300"' in page
    assert "{first_name|there}" in page and "custom field" in page


def test_a_variable_no_lead_has_is_a_warning_after_saving_and_a_refusal_at_activation(admin_client, campaign):
    factories.LeadFactory(campaign=campaign, custom_fields={"role": "CTO"})
    steps = existing_steps(campaign)
    steps[1]["template"] = "About {role} and {budget}"
    url = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    response = admin_client.post(url, campaign_form(campaign, steps), follow=True)
    text = response.content.decode()
    assert "unknown variable &#x27;budget&#x27;" in text or "unknown variable 'budget'" in text
    assert "role" not in text.split("unknown variable")[1][:20]
    with pytest.raises(CampaignActionRefused) as refused:
        campaign_activate(campaign=campaign)
    assert any("budget" in str(p) for p in refused.value.problems)
