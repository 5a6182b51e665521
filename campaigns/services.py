"""Writes on campaigns: activation with its checks, pause, resume, archive, duplicate; the message preview."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from integrations import outbound
from leads.models import ACTIVE_STATUSES, HOLD_STATUSES, Lead

from .models import Campaign, OutboundAction, Step
from .personalization import (
    INVITE_NOTE_LIMIT,
    Rendered,
    choose_variant,
    render,
    static_length,
    template_problems,
    variables_without_fallback,
)

SAMPLE_LEADS_PER_PROBLEM = 10


class CampaignActionRefused(Exception):
    code = "invalid_state_transition"

    def __init__(self, message: str, problems: list["Problem"] | None = None):
        super().__init__(message)
        self.problems = problems or []


@dataclass
class Problem:
    message: str
    lead_ids: list[int] = field(default_factory=list)
    lead_count: int = 0

    def __str__(self):
        if not self.lead_count:
            return self.message
        sample = ", ".join(str(pk) for pk in self.lead_ids)
        more = f" and {self.lead_count - len(self.lead_ids)} more" if self.lead_count > len(self.lead_ids) else ""
        return f"{self.message} ({self.lead_count} lead{'s' if self.lead_count != 1 else ''}: {sample}{more})"


def _step_templates(step: Step) -> list[tuple[str, str]]:
    variants = [("A", step.template)]
    if step.has_variant_b:
        variants.append(("B", step.template_b))
    return variants


# --- Steps ---------------------------------------------------------------------------------------


class StepInUse(CampaignActionRefused):
    """A step with actions (sent, queued or failed) is part of the send history: it is never deleted."""

    code = "conflict"

    def __init__(self, positions: list[int]):
        self.positions = sorted(positions)
        listed = ", ".join(map(str, self.positions))
        super().__init__(
            f"Step(s) {listed} already have actions for leads and cannot be removed: their send history would go "
            "with them. Change their text instead, or duplicate the campaign."
        )


def step_problems(step: Step, *, known_custom_fields: set[str] | None = None) -> dict[str, list[str]]:
    """What is wrong with a step whatever the lead, by field: checked when a step is saved, anywhere, and at
    activation. known_custom_fields: the custom fields the campaign's leads have (None: no leads to judge by)."""
    problems: dict[str, list[str]] = defaultdict(list)
    try:
        step.clean()
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            problems[name].extend(messages)
    for name, template in (("template", step.template), ("template_b", step.template_b)):
        if not template.strip():
            continue
        problems[name].extend(template_problems(template, known_custom_fields=known_custom_fields))
        if step.action == Step.Action.INVITE and (length := static_length(template)) > INVITE_NOTE_LIMIT:
            problems[name].append(
                f"The invitation note is at least {length} characters; LinkedIn allows {INVITE_NOTE_LIMIT}."
            )
    return {name: messages for name, messages in problems.items() if messages}


UNKNOWN_VARIABLE_SCAN = 10_000


def campaign_template_warnings(campaign: Campaign) -> list[str]:
    """Custom variables that none of the campaign's leads has (the first UNKNOWN_VARIABLE_SCAN leads are read):
    said after a save, refused at activation. Empty when the campaign has no leads yet (activation judges)."""
    rows = Lead.objects.filter(campaign=campaign).order_by("pk").values_list("custom_fields", flat=True)
    keys: set[str] = set()
    seen = 0
    for custom in rows[:UNKNOWN_VARIABLE_SCAN].iterator(chunk_size=2000):
        keys.update(custom or {})
        seen += 1
    if not seen:
        return []
    warnings = []
    for step in campaign.steps.order_by("position"):
        for variant, template in _step_templates(step):
            for problem in template_problems(template, known_custom_fields=keys):
                if "unknown variable" in problem:
                    warnings.append(f"Step {step.position} variant {variant}: {problem} No lead has it yet.")
    return warnings


def steps_in_use(steps) -> list[int]:
    """Positions of the given steps that have actions."""
    ids = [step.pk for step in steps if step.pk]
    used = set(OutboundAction.objects.filter(step_id__in=ids).values_list("step_id", flat=True).distinct())
    return [step.position for step in steps if step.pk in used]


@transaction.atomic
def step_delete(*, steps) -> int:
    """Delete steps that have no history; refuses the whole set (StepInUse) when any has actions."""
    steps = list(Step.objects.select_for_update().filter(pk__in=[s.pk for s in steps]))
    if used := steps_in_use(steps):
        raise StepInUse(used)
    Step.objects.filter(pk__in=[s.pk for s in steps]).delete()
    return len(steps)


@transaction.atomic
def campaign_set_steps(*, campaign: Campaign, steps: list[dict]) -> None:
    """The campaign's steps become this linear list, each after the one before (matched by id when given, else by
    position; history stays with its step). Branches are written through the sequence document instead."""
    from .sequence import SequenceInUse, linear_specs, sequence_replace

    try:
        sequence_replace(campaign=campaign, specs=linear_specs(steps))
    except SequenceInUse as exc:
        raise StepInUse([int(key) for key in exc.problems]) from None


@transaction.atomic
def campaign_create(*, senders=(), steps: list[dict] = (), **fields) -> Campaign:
    campaign = Campaign.objects.create(**fields)
    campaign.senders.set(senders)
    if steps:
        campaign_set_steps(campaign=campaign, steps=list(steps))
    return campaign


@transaction.atomic
def campaign_update(*, campaign: Campaign, senders=None, steps: list[dict] | None = None, **fields) -> Campaign:
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save()
    if senders is not None:
        locked.senders.set(senders)
    if steps is not None:
        campaign_set_steps(campaign=locked, steps=steps)
    return locked


def campaign_problems(campaign: Campaign) -> list[Problem]:
    """Everything that stops a campaign from running as the operator expects. Empty means ready."""
    problems: list[Problem] = []
    steps = list(campaign.steps.order_by("position"))
    senders = list(campaign.senders.all())

    if not senders:
        problems.append(Problem("No sender accounts: add at least one LinkedIn account."))
    for sender in senders:
        if sender.client_id != campaign.client_id:
            problems.append(Problem(f"Sender {sender} belongs to another client."))
    if not steps:
        problems.append(Problem("No steps: add at least one step."))
    if steps:
        from .sequence import SEQUENCE, sequence_problems, stored_specs

        for key, fields in sequence_problems(campaign.kind, stored_specs(campaign)).items():
            for name, messages in fields.items():
                if name in ("template", "template_b"):
                    continue  # said below, with the variant
                problems.extend(Problem(m if key == SEQUENCE else f"Step {key}: {m}") for m in messages)
    has_leads = Lead.objects.filter(campaign=campaign).exists()
    step_level: list[Problem] = []
    for step in steps:
        for name, messages in step_problems(step).items():
            where = {"template": " variant A", "template_b": " variant B"}.get(name, "")
            step_level.extend(Problem(f"Step {step.position}{where}: {m}") for m in messages)
        if not has_leads:
            # No lead to judge a custom field by: one without a fallback would error the first lead added.
            for variant, template in _step_templates(step):
                for raw in variables_without_fallback(template):
                    step_level.append(
                        Problem(
                            f"Step {step.position} variant {variant}: {raw} is not a standard field and the campaign "
                            f"has no leads yet; add a fallback ({raw[:-1]}|…}}) or import the leads first."
                        )
                    )
    problems.extend(step_level)
    problems = list({problem.message: problem for problem in problems}.values())  # a node's check says it once
    if step_level:
        return problems  # broken templates would fail for every lead: say it once
    problems.extend(_lead_render_problems(campaign, steps))
    return problems


def _lead_render_problems(campaign: Campaign, steps: list[Step]) -> list[Problem]:
    texts = [(s, v, t) for s in steps for v, t in _step_templates(s) if t.strip()]
    if not texts:
        return []
    by_message: dict[str, list[int]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    leads = (
        Lead.objects.filter(campaign=campaign, status__in=ACTIVE_STATUSES)
        .only("id", "first_name", "last_name", "company", "title", "custom_fields")
        .order_by("id")
    )
    custom_keys: set[str] = set()
    for lead in leads.iterator(chunk_size=2000):
        custom_keys.update(lead.custom_fields or {})
        for step, variant, template in texts:
            if step.has_variant_b and variant != choose_variant(lead_id=lead.pk, step_id=step.pk, has_variant_b=True):
                continue
            result = render(template, lead, invite_note=step.action == Step.Action.INVITE)
            for message in result.problems:
                key = f"Step {step.position} variant {variant}: {message}"
                counts[key] += 1
                if len(by_message[key]) < SAMPLE_LEADS_PER_PROBLEM:
                    by_message[key].append(lead.pk)
    # A variable that no lead has at all is a typo in the template, not missing data: say so first.
    unknown = [
        Problem(f"Step {step.position} variant {variant}: {message}")
        for step, variant, template in texts
        for message in template_problems(template, known_custom_fields=custom_keys)
    ]
    return unknown + [Problem(key, lead_ids=by_message[key], lead_count=counts[key]) for key in sorted(counts)]


def _set_status(campaign: Campaign, allowed_from: set[str], to: str, verb: str) -> Campaign:
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if locked.status not in allowed_from:
        raise CampaignActionRefused(
            f"Campaign {campaign} is {locked.get_status_display().lower()} and cannot be {verb}."
        )
    locked.status = to
    if to == Campaign.Status.ACTIVE and locked.activated_at is None:
        locked.activated_at = timezone.now()
    locked.save(update_fields=["status", "activated_at"])
    campaign.status, campaign.activated_at = locked.status, locked.activated_at
    if event_type := CAMPAIGN_EVENTS_OUT.get(to):
        outbound.emit(
            client_id=locked.client_id,
            type=event_type,
            data={"campaign": {"id": locked.pk, "name": locked.name, "status": locked.status}},
        )
    return campaign


CAMPAIGN_EVENTS_OUT = {
    Campaign.Status.ACTIVE: "campaign.activated",
    Campaign.Status.PAUSED: "campaign.paused",
    Campaign.Status.COMPLETED: "campaign.completed",
}


@transaction.atomic
def campaign_activate(*, campaign: Campaign) -> Campaign:
    """Draft or paused -> active, when there is nothing wrong with it; new leads become due now."""
    problems = campaign_problems(campaign)
    if problems:
        raise CampaignActionRefused(f"Campaign {campaign} cannot be activated: {len(problems)} problem(s).", problems)
    _set_status(campaign, {Campaign.Status.DRAFT, Campaign.Status.PAUSED}, Campaign.Status.ACTIVE, "activated")
    Lead.objects.filter(campaign=campaign, status="pending", next_action_at__isnull=True).update(
        next_action_at=timezone.now()
    )
    return campaign


def campaigns_complete_finished() -> list[Campaign]:
    """Active campaigns whose every lead has finished (replied, completed, withdrawn, opted out...): completed.
    Each one is its own transaction, under the campaign's lock, checked again there (a lead may have just come)."""
    unfinished = Lead.objects.filter(campaign=OuterRef("pk"), status__in=[*ACTIVE_STATUSES, *HOLD_STATUSES])
    candidates = Campaign.objects.filter(status=Campaign.Status.ACTIVE, leads__isnull=False).filter(~Exists(unfinished))
    completed = []
    for campaign in candidates.distinct():
        with transaction.atomic():
            locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
            if (
                locked.status != Campaign.Status.ACTIVE
                or Lead.objects.filter(campaign=locked, status__in=[*ACTIVE_STATUSES, *HOLD_STATUSES]).exists()
            ):
                continue
            _set_status(campaign, {Campaign.Status.ACTIVE}, Campaign.Status.COMPLETED, "completed")
            completed.append(campaign)
    return completed


@transaction.atomic
def campaign_pause(*, campaign: Campaign) -> Campaign:
    return _set_status(campaign, {Campaign.Status.ACTIVE}, Campaign.Status.PAUSED, "paused")


def campaign_resume(*, campaign: Campaign) -> Campaign:
    if campaign.status != Campaign.Status.PAUSED:
        raise CampaignActionRefused(f"Campaign {campaign} is {campaign.get_status_display().lower()}, not paused.")
    return campaign_activate(campaign=campaign)


@transaction.atomic
def campaign_archive(*, campaign: Campaign) -> Campaign:
    allowed = set(Campaign.Status.values) - {Campaign.Status.ARCHIVED}
    _set_status(campaign, allowed, Campaign.Status.ARCHIVED, "archived")
    # Nothing of an archived campaign is sent any more.
    OutboundAction.objects.filter(lead__campaign=campaign, status__in=OutboundAction.WAITING_STATUSES).update(
        status="cancelled", last_error="Campaign archived."
    )
    return campaign


@transaction.atomic
def campaign_duplicate(*, campaign: Campaign) -> Campaign:
    """A draft copy with the same settings, steps and senders, and no leads."""
    copy = Campaign.objects.create(
        client=campaign.client,
        name=f"{campaign.name} (copy)"[:200],
        kind=campaign.kind,
        timezone=campaign.timezone,
        work_start=campaign.work_start,
        work_end=campaign.work_end,
        working_days=list(campaign.working_days),
        holiday_country=campaign.holiday_country,
        holiday_subdivision=campaign.holiday_subdivision,
        one_conversation_per_person=campaign.one_conversation_per_person,
        dry_run=campaign.dry_run,
    )
    copy.senders.set(campaign.senders.all())
    from .sequence import sequence_replace, stored_specs

    specs = stored_specs(campaign)
    for spec in specs:
        spec.id = None  # new steps, same numbers and shape
    if specs:
        sequence_replace(campaign=copy, specs=specs)
    return copy


@dataclass
class PreviewCell:
    step: Step
    variant: str
    rendered: Rendered | None  # None: the step sends no text


@dataclass
class PreviewRow:
    lead: Lead
    cells: list[PreviewCell]


def campaign_preview(*, campaign: Campaign, leads=None, sample: int = 10) -> list[PreviewRow]:
    """Every step rendered for a sample of the campaign's leads (or the given ones), as they would be sent."""
    steps = list(campaign.steps.order_by("position"))
    if leads is None:
        leads = campaign.leads.order_by("id")[:sample]
    rows = []
    for lead in leads:
        cells = []
        for step in steps:
            variant = choose_variant(lead_id=lead.pk, step_id=step.pk, has_variant_b=step.has_variant_b)
            template = step.template_b if variant == "B" else step.template
            rendered = (
                render(template, lead, invite_note=step.action == Step.Action.INVITE) if template.strip() else None
            )
            cells.append(PreviewCell(step=step, variant=variant, rendered=rendered))
        rows.append(PreviewRow(lead=lead, cells=cells))
    return rows


class OutboundActionRefused(Exception):
    pass


@transaction.atomic
def outbound_action_retry(*, action: OutboundAction) -> OutboundAction:
    """A dead action goes back to the queue with a fresh attempt budget, due now."""
    updated = OutboundAction.objects.filter(pk=action.pk, status=OutboundAction.Status.DEAD).update(
        status=OutboundAction.Status.QUEUED, attempts=0, scheduled_for=timezone.now(), claimed_at=None
    )
    if not updated:
        raise OutboundActionRefused(f"Action {action.pk} is {action.get_status_display().lower()}, not dead.")
    action.refresh_from_db()
    return action


@transaction.atomic
def outbound_action_cancel(*, action: OutboundAction) -> OutboundAction:
    """Only what has not been handed to LinkedIn can be cancelled; a claimed action is being sent right now."""
    cancellable = [OutboundAction.Status.QUEUED, OutboundAction.Status.FAILED, OutboundAction.Status.DEAD]
    updated = OutboundAction.objects.filter(pk=action.pk, status__in=cancellable).update(
        status=OutboundAction.Status.CANCELLED, last_error="Cancelled by an operator."
    )
    if not updated:
        raise OutboundActionRefused(
            f"Action {action.pk} is {action.get_status_display().lower()} and cannot be cancelled."
        )
    action.refresh_from_db()
    return action
