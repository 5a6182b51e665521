"""Sequences as graphs: the checks, every condition's yes and no path on the engine, engagement actions, the
migration of linear sequences, and the one document of the API (with the admin refusing the same way)."""

import datetime as dt
import importlib
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.urls import reverse
from rest_framework.test import APIClient

from campaigns.engine import planner, sender
from campaigns.models import Campaign, OutboundAction, Step
from campaigns.sequence import SEQUENCE, lead_waiting, node, sequence_apply_shape, sequence_problems
from integrations.models import RateUsage
from integrations.unipile import NotSupported
from leads.models import Event, Lead
from tests.factories import AccountFactory, CampaignFactory, LeadFactory, StepFactory, UserFactory
from tests.fakes import FakeUnipile

PARIS = ZoneInfo("Europe/Paris")
WEDNESDAY_10 = dt.datetime(2026, 11, 18, 10, 0, tzinfo=PARIS)

pytestmark = pytest.mark.django_db


def problems_of(kind, *specs):
    return sequence_problems(kind, list(specs))


def flat(problems):
    return [f"{key}: {m}" for key, fields in problems.items() for messages in fields.values() for m in messages]


# --- checks ---------------------------------------------------------------------------------------


def test_the_ready_made_branching_shape_is_valid(client_org):
    campaign = CampaignFactory(client=client_org)
    steps = sequence_apply_shape(campaign=campaign, shape="branching")
    assert len(steps) == 8
    condition = campaign.steps.get(action="condition")
    assert condition.children.get(branch="yes").action == "message"
    assert condition.children.get(branch="no").action == "withdraw"


@pytest.mark.parametrize(
    ("specs", "where", "says"),
    [
        # A message on the no path of "accepted" goes to someone who did not accept.
        (
            [
                node("i", action="invite"),
                node("c", "i", action="condition", condition="accepted", within_days=14),
                node("m", "c", "no", action="message", template="Hi"),
            ],
            "m",
            "has not accepted",
        ),
        ([node("m", action="message", template="Hi"), node("i", "m", action="invite")], "m", "before the invitation"),
        ([node("i", action="invite"), node("w", action="withdraw")], "w", "Only the first step"),
        (
            [node("i", "x", action="invite"), node("x", "i", action="visit")],
            SEQUENCE,
            "form a loop",
        ),
        (
            [node("i", action="invite"), node("v", "i", "yes", action="visit")],
            "v",
            "not a condition",
        ),
        (
            [
                node("i", action="invite"),
                node("c", "i", action="condition", condition="replied", within_days=3),
                node("v", "c", "yes", action="visit"),
            ],
            "c",
            "A reply always ends the sequence",
        ),
        ([node("v", action="visit"), node("w", "v", action="withdraw"), node("i", "w", action="invite")], "w",
         "Nothing to withdraw"),
        ([node("i", action="invite"), node("c", "i", action="condition", condition="accepted")], "c",
         "how many working days"),
        ([node("i", action="invite"), node("a", "i", action="visit"), node("b", "i", action="follow")], "b",
         "already comes after step i"),
    ],
)  # fmt: skip
def test_graph_checks_point_at_the_node(specs, where, says):
    problems = sequence_problems(Campaign.Kind.CONNECTOR, specs)
    assert any(says in message for messages in problems.get(where, {}).values() for message in messages), flat(problems)


def test_a_messenger_sequence_may_message_at_once_and_branch_on_email():
    assert not problems_of(
        Campaign.Kind.MESSENGER,
        node("c", action="condition", condition="has_email"),
        node("m", "c", "yes", action="message", template="Hi {first_name|there}"),
        node("n", "c", "no", action="inmail", template="Hello"),
    )


# --- the engine follows the graph --------------------------------------------------------------------


@pytest.fixture
def fake():
    return FakeUnipile()


@pytest.fixture
def branching(client_org):
    account = AccountFactory(client=client_org, unipile_account_id="acc-g", min_seconds_between_actions=10)
    campaign = CampaignFactory(client=client_org, status=Campaign.Status.ACTIVE, timezone="Europe/Paris")
    campaign.senders.add(account)
    sequence_apply_shape(campaign=campaign, shape="branching")
    return campaign, account


def tick(account, fake, now):
    planner.plan_due(now=now)
    from integrations.models import LinkedInAccount

    LinkedInAccount.objects.filter(pk=account.pk).update(next_action_after=None)
    return sender.send_for_account(account_id=account.pk, now=now, client=fake)


def invited_lead(branching, fake, **fields):
    campaign, account = branching
    lead = LeadFactory(campaign=campaign, first_name="Ann", next_action_at=WEDNESDAY_10, **fields)
    assert tick(account, fake, WEDNESDAY_10).outcome == "sent"
    lead.refresh_from_db()
    assert lead.status == "invited" and lead.step.action == "condition"
    planner.plan_due(now=WEDNESDAY_10 + dt.timedelta(minutes=1))  # the condition opens its window
    lead.refresh_from_db()
    return lead


def test_accepted_in_time_takes_the_yes_path(branching, fake):
    _, account = branching
    lead = invited_lead(branching, fake)
    # 14 working days from Wednesday 18 November 10:01: Tuesday 8 December, 10:01 Paris.
    assert lead.condition_until == dt.datetime(2026, 12, 8, 10, 1, tzinfo=PARIS)
    assert lead.next_action_at == lead.condition_until  # the no path is a due time in the database
    friday = dt.datetime(2026, 11, 20, 10, 0, tzinfo=PARIS)
    assert "waiting up to 14 working days for acceptance: 12 left" in lead_waiting(lead, now=friday)

    from campaigns.inbound import accept_relation

    lead.refresh_from_db()
    fake.connected.add(lead.provider_id)
    accept_relation(account=account, provider_id=lead.provider_id, public_identifier="", source="test", when=friday)
    assert tick(account, fake, friday).outcome == "sent"
    lead.refresh_from_db()
    assert fake.calls_of("start_chat")
    assert OutboundAction.objects.get(lead=lead, step__label="Message 1").status == "sent"
    assert lead.step.label == "Wait 3 days" and lead.status == "messaged"
    assert not OutboundAction.objects.filter(lead=lead, step__action="withdraw").exists()


def test_not_accepted_when_the_window_ends_takes_the_no_path(branching, fake):
    campaign, account = branching
    lead = invited_lead(branching, fake)
    before = lead.condition_until - dt.timedelta(minutes=1)
    assert planner.plan_due(now=before).planned == 0  # not due yet: nothing read, nothing decided
    end = lead.condition_until
    assert tick(account, fake, end).outcome == "sent"
    lead.refresh_from_db()
    assert fake.calls_of("withdraw_invitation") and lead.status == "pending"
    assert lead.step.action == "follow" and lead.current_step == campaign.steps.get(action="withdraw").position
    # Follow a working day later, then the InMail two more.
    follow_day = lead.next_action_at
    assert follow_day == dt.datetime(2026, 12, 9, 10, 1, tzinfo=PARIS)
    assert tick(account, fake, follow_day).outcome == "sent"
    assert ("follow", lead.provider_id or fake.provider_id_for(lead.public_identifier), "") in fake.delivered
    lead.refresh_from_db()
    assert tick(account, fake, lead.next_action_at).outcome == "sent"
    lead.refresh_from_db()
    assert lead.status == "completed"
    assert RateUsage.objects.filter(account=account, follows=1).exists()


def test_a_reply_while_waiting_on_a_condition_stops_everything(branching, fake):
    lead = invited_lead(branching, fake)
    from leads.services import lead_mark_replied

    lead_mark_replied(lead=lead)
    assert planner.plan_due(now=lead.condition_until + dt.timedelta(days=1)).planned == 0
    assert not OutboundAction.objects.filter(lead=lead, status="queued").exists()
    lead.refresh_from_db()
    assert lead.status == "replied"


@pytest.mark.parametrize(("email", "expected"), [("ann@example.com", "message"), ("", "inmail")])
def test_an_instant_condition_decides_at_once(client_org, fake, email, expected):
    account = AccountFactory(client=client_org, unipile_account_id="acc-e")
    campaign = CampaignFactory(
        client=client_org, status=Campaign.Status.ACTIVE, timezone="Europe/Paris", kind=Campaign.Kind.MESSENGER
    )
    campaign.senders.add(account)
    cond = StepFactory(campaign=campaign, position=1, action="condition", condition="has_email", template="")
    StepFactory(campaign=campaign, position=2, action="message", parent=cond, branch="yes", template="Hi")
    StepFactory(campaign=campaign, position=3, action="inmail", parent=cond, branch="no", template="Hello")
    lead = LeadFactory(campaign=campaign, email=email, status="connected", next_action_at=WEDNESDAY_10)
    planner.plan_due(now=WEDNESDAY_10)
    assert OutboundAction.objects.get(lead=lead).step.action == expected
    lead.refresh_from_db()
    assert lead.current_step == 1 and lead.step.action == expected


def test_engagement_caps_hold_and_unsupported_calls_skip_the_step(client_org, fake):
    account = AccountFactory(
        client=client_org, unipile_account_id="acc-c", daily_like_limit=1, min_seconds_between_actions=10
    )
    campaign = CampaignFactory(client=client_org, status=Campaign.Status.ACTIVE, timezone="Europe/Paris")
    campaign.senders.add(account)
    like = StepFactory(campaign=campaign, position=1, action="like", template="")
    StepFactory(campaign=campaign, position=2, action="endorse", template="", delay_days=1)
    StepFactory(campaign=campaign, position=3, action="invite", template="", delay_days=1)
    first, second = (LeadFactory(campaign=campaign, next_action_at=WEDNESDAY_10) for _ in range(2))
    assert tick(account, fake, WEDNESDAY_10).outcome == "sent"
    blocked = tick(account, fake, WEDNESDAY_10 + dt.timedelta(minutes=5))
    assert blocked.outcome == "blocked" and "post like cap reached" in blocked.detail
    assert OutboundAction.objects.filter(step=like, status="sent").count() == 1

    fake.fail_next("endorse", NotSupported("linkedin.endorse answered 404"))
    thursday = WEDNESDAY_10 + dt.timedelta(days=1)
    done = next(lead for lead in (first, second) if OutboundAction.objects.get(lead=lead, step=like).status == "sent")
    Lead.objects.filter(pk=done.pk).update(next_action_at=thursday)
    results = [tick(account, fake, thursday + dt.timedelta(minutes=n)) for n in range(2)]  # the other like first
    result = next(r for r in results if r.outcome == "skipped")
    assert result.outcome == "skipped" and "not supported by the provider" in result.detail
    skipped = Event.objects.get(lead=done, type="step_skipped")
    assert skipped.data["step_id"] == campaign.steps.get(position=2).pk
    done.refresh_from_db()
    assert done.step.action == "invite" and done.status == "pending"


def test_an_unknown_outcome_of_a_follow_is_retried_not_checked(client_org, fake):
    from integrations.unipile import ProviderUnavailable

    account = AccountFactory(client=client_org, unipile_account_id="acc-f", min_seconds_between_actions=10)
    campaign = CampaignFactory(client=client_org, status=Campaign.Status.ACTIVE, timezone="Europe/Paris")
    campaign.senders.add(account)
    StepFactory(campaign=campaign, position=1, action="follow", template="")
    StepFactory(campaign=campaign, position=2, action="invite", template="")
    lead = LeadFactory(campaign=campaign, next_action_at=WEDNESDAY_10)
    fake.fail_next("follow", ProviderUnavailable("timed out"), after_acting=True)
    assert tick(account, fake, WEDNESDAY_10).outcome == "retry"
    action = OutboundAction.objects.get(lead=lead)
    assert action.status == "failed" and not action.outcome_unknown


# --- migration -------------------------------------------------------------------------------------


def test_linear_campaigns_migrate_to_the_same_graph(client_org):
    campaign = CampaignFactory(client=client_org)
    steps = [
        Step.objects.create(campaign=campaign, position=p, action=a, template=t)
        for p, a, t in ((1, "invite", ""), (3, "message", "Hi"), (4, "visit", ""), (7, "message", "Bye"))
    ]  # as stored before: no parents
    at = {
        n: LeadFactory(campaign=campaign, current_step=n, status=s)
        for n, s in ((0, "pending"), (1, "invited"), (3, "messaged"), (4, "messaged"))
    }
    finished = LeadFactory(campaign=campaign, current_step=7, status="completed")
    migration = importlib.import_module("campaigns.migrations.0007_link_linear_sequences")
    migration.link(apps, None)
    parents = {s.position: (s.parent.position if s.parent else None) for s in campaign.steps.all()}
    assert parents == {1: None, 3: 1, 4: 3, 7: 4}
    expected = {0: steps[0], 1: steps[1], 3: steps[2], 4: steps[3]}
    for number, lead in at.items():
        lead.refresh_from_db()
        assert lead.step == expected[number]
    finished.refresh_from_db()
    assert finished.step is None


# --- the API's document, and the admin refusing the same way ------------------------------------------


@pytest.fixture
def api(client_org):
    from outreach.models import Membership

    user = UserFactory()
    Membership.objects.create(user=user, client=client_org, role="admin")
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_get_and_put_the_whole_graph(api, client_org):
    campaign = CampaignFactory(client=client_org)
    sequence_apply_shape(campaign=campaign, shape="branching")
    url = f"/api/v1/campaigns/{campaign.pk}/sequence"
    document = api.get(url).json()
    assert len(document["nodes"]) == 8
    condition = next(n for n in document["nodes"] if n["type"] == "condition")
    condition["within_days"] = 10
    message = next(n for n in document["nodes"] if n["key"] == condition["yes"])
    message["label"] = "Thanks"
    answer = api.put(url, {"start": document["start"], "nodes": document["nodes"]}, format="json")
    assert answer.status_code == 200, answer.json()
    assert campaign.steps.get(action="condition").within_days == 10
    assert campaign.steps.filter(label="Thanks").count() == 1
    assert campaign.steps.count() == 8


BAD = {
    "start": "i",
    "nodes": [
        {"key": "i", "type": "invite", "next": "c"},
        {"key": "c", "type": "condition", "condition": "accepted", "within_days": 5, "yes": None},
        {"key": "m", "type": "message", "template": "Hi", "next": None},
    ],
}


def test_put_errors_point_at_the_node_and_write_nothing(api, client_org):
    campaign = CampaignFactory(client=client_org)
    answer = api.put(f"/api/v1/campaigns/{campaign.pk}/sequence", BAD, format="json")
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "validation_error"
    assert "no path" in str(body["details"]["nodes"]["c"]["no"])
    fixed = {**BAD, "nodes": [*BAD["nodes"][:1], {**BAD["nodes"][1], "no": None}, BAD["nodes"][2]]}
    unreachable = api.put(f"/api/v1/campaigns/{campaign.pk}/sequence", fixed, format="json").json()
    assert "Nothing leads to this node" in str(unreachable["details"]["nodes"]["m"])
    loop = {
        "start": "i",
        "nodes": [
            {"key": "i", "type": "invite", "next": None},
            {"key": "a", "type": "visit", "next": "b"},
            {"key": "b", "type": "visit", "next": "a"},
        ],
    }
    looped = api.put(f"/api/v1/campaigns/{campaign.pk}/sequence", loop, format="json").json()
    assert "loop" in str(looped["details"]["nodes"]["a"])
    assert not campaign.steps.exists()


def test_a_node_with_history_cannot_be_left_out(api, client_org):
    campaign = CampaignFactory(client=client_org)
    sequence_apply_shape(campaign=campaign, shape="linear")
    used = campaign.steps.get(position=2)
    account = AccountFactory(client=client_org)
    OutboundAction.objects.create(lead=LeadFactory(campaign=campaign), step=used, account=account, action="message")
    document = api.get(f"/api/v1/campaigns/{campaign.pk}/sequence").json()
    document["nodes"] = [n for n in document["nodes"] if n["id"] != used.pk]
    document["nodes"][0]["next"] = "3"
    answer = api.put(f"/api/v1/campaigns/{campaign.pk}/sequence", document, format="json")
    assert answer.status_code == 409 and "cannot be removed" in answer.json()["message"]
    assert campaign.steps.count() == 3


def test_the_admin_refuses_a_message_on_the_no_path_like_the_api(api, admin_client, client_org):
    """Parity: the same bad sequence through the API and the admin inline, the same refusal, nothing written."""
    campaign = CampaignFactory(client=client_org)
    document = {
        "start": "1",
        "nodes": [
            {"key": "1", "type": "invite", "next": "2"},
            {"key": "2", "type": "condition", "condition": "accepted", "within_days": 5, "yes": None, "no": "3"},
            {"key": "3", "type": "message", "template": "Hi", "next": None},
        ],
    }
    answer = api.put(f"/api/v1/campaigns/{campaign.pk}/sequence", document, format="json")
    assert answer.status_code == 400 and "has not accepted" in str(answer.json()["details"]["nodes"]["3"])
    rows = [
        {"position": 1, "action": "invite"},
        {"position": 2, "action": "condition", "condition": "accepted", "within_days": 5, "after": 1},
        {"position": 3, "action": "message", "template": "Hi", "after": 2, "branch": "no"},
    ]
    data = {
        "client": client_org.pk, "name": campaign.name, "kind": campaign.kind, "timezone": "UTC",
        "work_start": "09:00", "work_end": "17:00", "working_days": ["0", "1", "2", "3", "4"],
        "steps-TOTAL_FORMS": "3", "steps-INITIAL_FORMS": "0", "steps-MIN_NUM_FORMS": "0", "steps-MAX_NUM_FORMS": "1000",
    }  # fmt: skip
    for n, row in enumerate(rows):
        for name in ("position", "action", "condition", "within_days", "after", "branch", "template", "template_b",
                     "label", "delay_days", "delay_hours"):  # fmt: skip
            default = "0" if name in ("delay_days", "delay_hours") else ""
            data[f"steps-{n}-{name}"] = row.get(name, default)
    page = admin_client.post(reverse("admin:campaigns_campaign_change", args=[campaign.pk]), data)
    assert page.status_code == 200 and "has not accepted" in page.content.decode()
    assert not campaign.steps.exists()


# --- the campaign page -----------------------------------------------------------------------------


def test_the_campaign_page_draws_the_tree_and_edits_nodes(admin_client, client_org):
    campaign = CampaignFactory(client=client_org)
    page = admin_client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert "No steps yet" in page and "Start from a ready-made sequence" in page
    operate = reverse("admin:campaigns_campaign_operate", args=[campaign.pk])
    done = admin_client.post(operate, {"op": "shape", "shape": "branching"}, follow=True)
    assert "The sequence was replaced." in done.content.decode()
    page = done.content.decode()
    assert page.count('class="seq-node') == 8 and "seq-branch-yes" in page and "Accepted?" in page

    follow = campaign.steps.get(action="follow")
    admin_client.post(operate, {"op": "add", "step": follow.pk, "kind": "like"})
    like = campaign.steps.get(action="like")
    assert like.parent == follow and campaign.steps.get(action="inmail").parent == like
    admin_client.post(operate, {"op": "up", "step": like.pk})
    like.refresh_from_db()
    assert like.parent.action == "withdraw" and campaign.steps.get(action="follow").parent == like
    admin_client.post(operate, {"op": "remove", "step": like.pk})
    assert not campaign.steps.filter(action="like").exists()
    assert campaign.steps.get(action="follow").parent.action == "withdraw"

    # A removal that would break the sequence is refused with the reason, nothing written.
    condition = campaign.steps.get(action="condition")
    refused = admin_client.post(operate, {"op": "remove", "step": condition.pk}, follow=True).content.decode()
    assert "Both paths of this condition have steps" in refused and campaign.steps.count() == 8

    activated = admin_client.post(operate, {"op": "activate"}, follow=True).content.decode()
    assert "cannot be activated" in activated  # no sender yet: the problems are listed
    campaign.senders.add(AccountFactory(client=client_org))
    LeadFactory(campaign=campaign, first_name="Ann")
    assert "is active." in admin_client.post(operate, {"op": "activate"}, follow=True).content.decode()
    copy = admin_client.post(operate, {"op": "duplicate"})
    duplicate = Campaign.objects.exclude(pk=campaign.pk).get()
    assert copy.url.endswith(f"/{duplicate.pk}/change/") and duplicate.steps.count() == 8
    assert duplicate.steps.get(action="condition").children.count() == 2


def test_a_viewer_cannot_operate_the_campaign(client_org):
    from tests.security.test_admin_custom_views import staff

    viewer = staff(perms=["change_campaign", "view_campaign"], member_of=client_org, role="viewer")
    campaign = CampaignFactory(client=client_org)
    operate = reverse("admin:campaigns_campaign_operate", args=[campaign.pk])
    assert viewer.post(operate, {"op": "shape", "shape": "linear"}).status_code == 403
    assert not campaign.steps.exists()
    other = CampaignFactory()
    agent = staff(perms=["change_campaign", "view_campaign"], member_of=client_org, role="agent")
    assert agent.post(reverse("admin:campaigns_campaign_operate", args=[other.pk]), {"op": "pause"}).status_code in (
        403,
        404,
    )
    assert agent.post(operate, {"op": "shape", "shape": "linear"}).status_code == 302
    assert campaign.steps.count() == 3


# --- the other conditions, and the migration on the demo's own sequence ---------------------------------


@pytest.mark.parametrize(
    ("condition", "within", "lead_fields", "account_fields", "branch"),
    [
        ("connected", None, {"status": "connected", "connected_at": WEDNESDAY_10}, {}, "yes"),
        ("connected", None, {"status": "pending"}, {}, "no"),
        ("inmail_credits", None, {}, {"inmail_credits": 5}, "yes"),
        ("inmail_credits", None, {}, {"inmail_credits": 0}, "no"),
        ("inmail_credits", None, {}, {"inmail_credits": None}, "yes"),  # unknown: try (the InMail step checks)
    ],
)
def test_instant_conditions_take_their_path(client_org, condition, within, lead_fields, account_fields, branch):
    account = AccountFactory(client=client_org, unipile_account_id=f"acc-{condition}", **account_fields)
    campaign = CampaignFactory(client=client_org, status=Campaign.Status.ACTIVE, timezone="Europe/Paris")
    campaign.senders.add(account)
    cond = StepFactory(campaign=campaign, position=1, action="condition", condition=condition, template="")
    yes = StepFactory(campaign=campaign, position=2, action="visit", parent=cond, branch="yes", template="")
    no = StepFactory(campaign=campaign, position=3, action="follow", parent=cond, branch="no", template="")
    lead = LeadFactory(campaign=campaign, sender=account, next_action_at=WEDNESDAY_10, **lead_fields)
    planner.plan_due(now=WEDNESDAY_10)
    assert OutboundAction.objects.get(lead=lead).step == (yes if branch == "yes" else no)


def test_replied_within_a_window_goes_on_when_nobody_answers(client_org, fake):
    account = AccountFactory(client=client_org, unipile_account_id="acc-r", min_seconds_between_actions=10)
    campaign = CampaignFactory(client=client_org, status=Campaign.Status.ACTIVE, timezone="Europe/Paris")
    campaign.senders.add(account)
    cond = StepFactory(campaign=campaign, position=1, action="condition", condition="replied", within_days=3,
                       template="")  # fmt: skip
    nudge = StepFactory(campaign=campaign, position=2, action="visit", parent=cond, branch="no", template="")
    quiet = LeadFactory(campaign=campaign, sender=account, status="connected", next_action_at=WEDNESDAY_10)
    answers = LeadFactory(campaign=campaign, sender=account, status="connected", next_action_at=WEDNESDAY_10)
    planner.plan_due(now=WEDNESDAY_10)
    quiet.refresh_from_db()
    assert quiet.step == cond and quiet.condition_until == dt.datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)
    from leads.services import lead_mark_replied

    lead_mark_replied(lead=Lead.objects.get(pk=answers.pk))
    planner.plan_due(now=quiet.condition_until)
    assert OutboundAction.objects.get(lead=quiet).step == nudge
    assert not OutboundAction.objects.filter(lead=answers).exists()


def test_the_demo_sequence_migrates_and_plans_as_before(client_org):
    """The demo's linear sequence as it was stored (no parents), leads at each step: after the migration, each
    lead's next step is the one the linear engine picked (the first step numbered after its current_step)."""
    from outreach.management.commands.demo import STEPS

    account = AccountFactory(client=client_org, unipile_account_id="acc-demo")
    campaign = CampaignFactory(client=client_org, status=Campaign.Status.ACTIVE, timezone="Europe/Paris")
    campaign.senders.add(account)
    steps = [
        Step.objects.create(campaign=campaign, position=i, action=a, delay_days=0, template=t, template_b=b)
        for i, (a, _, t, b) in enumerate(STEPS, start=1)
    ]
    statuses = {0: "pending", 1: "connected", 2: "messaged", 3: "messaged"}
    leads = {
        n: LeadFactory(campaign=campaign, first_name="Ann", company="Acme", title="CTO", custom_fields={"city": "Lyon"},
                       current_step=n, status=statuses[n], sender=account, next_action_at=WEDNESDAY_10,
                       connected_at=WEDNESDAY_10 if n else None, provider_id=f"ACoAADemo{n}")
        for n in statuses
    }  # fmt: skip
    importlib.import_module("campaigns.migrations.0007_link_linear_sequences").link(apps, None)
    planner.plan_due(now=WEDNESDAY_10)
    for number, lead in leads.items():
        assert OutboundAction.objects.get(lead=lead).step == steps[number], number


def test_the_message_preview_picks_leads_by_name(admin_client, client_org):
    campaign = CampaignFactory(client=client_org)
    sequence_apply_shape(campaign=campaign, shape="linear")
    LeadFactory(campaign=campaign, first_name="Ann", last_name="Lee")
    LeadFactory(campaign=campaign, first_name="Bob", last_name="Ray")
    url = reverse("admin:campaigns_campaign_preview", args=[campaign.pk])
    page = admin_client.get(url, {"q": "lee"}).content.decode()
    assert "Thanks for connecting, Ann!" in page and "Thanks for connecting, Bob!" not in page
    assert "2. Message 1" in page  # steps by their labels
    nobody = admin_client.get(url, {"q": "zed"}).content.decode()
    assert "No lead of this campaign is named like" in nobody
