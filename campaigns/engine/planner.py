"""The planner: due leads of active campaigns get their next step queued as an OutboundAction.

Leads are read through the (status, next_action_at) index in bounded batches, and each batch
costs a fixed number of queries, so a tick costs O(due leads), never O(all leads). A planned lead's
next_action_at is cleared: it waits for its action, and unique (lead, step) makes planning twice
harmless.

Conditions and waits are decided here, in the same pass: a condition that holds sends the lead down
its yes path, one whose window has ended down its no path, and one still open parks the lead with
next_action_at at the window's end (condition_until), so the sweep of ended windows is the same
indexed read of due leads.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from integrations.models import LinkedInAccount, RateUsage
from leads.dnc import dnc_hits
from leads.models import Lead, LeadStatus
from leads.services import lead_transition

from ..models import Campaign, OutboundAction, Step
from ..personalization import choose_variant, render
from ..sequence import Sequence
from . import limits
from .calendar import WorkCalendar

PLANNABLE_STATUSES = [LeadStatus.PENDING, LeadStatus.INVITED, LeadStatus.CONNECTED, LeadStatus.MESSAGED]
MAX_HOPS = 50  # conditions and waits passed in one go for a lead (a sequence has at most 40 steps)
Status = OutboundAction.Status


@dataclass
class PlanResult:
    planned: int = 0
    revived: int = 0
    waiting: int = 0
    completed: int = 0
    stopped: int = 0
    errors: int = 0
    batches: int = 0

    def add(self, other: "PlanResult") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def __str__(self):
        return ", ".join(f"{name} {getattr(self, name)}" for name in self.__dataclass_fields__)


def plan_due(*, now: dt.datetime | None = None, batch_size: int = 500, max_batches: int = 40) -> PlanResult:
    now = now or timezone.now()
    total = PlanResult()
    active = list(Campaign.objects.filter(status=Campaign.Status.ACTIVE).values_list("pk", flat=True))
    if not active:
        return total
    senders = _Senders(now)
    for _ in range(max_batches):
        leads = list(
            Lead.objects.filter(status__in=PLANNABLE_STATUSES, next_action_at__lte=now, campaign_id__in=active)
            .select_related("campaign__client", "sender__client")
            .order_by("next_action_at")[:batch_size]
        )
        if not leads:
            break
        total.add(_plan_batch(leads, now, senders))
        if len(leads) < batch_size:
            break
    return total


class _Senders:
    """Remaining capacity today per campaign sender and action kind.

    One per tick: campaigns are loaded the first time a batch needs them, and what a batch assigns
    counts for the next one.
    """

    KINDS = tuple(sorted(Step.SENDING))

    def __init__(self, now: dt.datetime):
        self.now = now
        self.by_campaign: dict[int, list[LinkedInAccount]] = {}
        self.remaining: dict[tuple[int, str], int] = {}

    def ensure(self, campaign_ids: set[int]) -> None:
        missing = campaign_ids - self.by_campaign.keys()
        if not missing:
            return
        for campaign_id in missing:
            self.by_campaign[campaign_id] = []
        through = Campaign.senders.through.objects.filter(campaign_id__in=missing).select_related(
            "linkedinaccount__client"
        )
        accounts: dict[int, LinkedInAccount] = {}
        for row in through:
            accounts[row.linkedinaccount_id] = row.linkedinaccount
            self.by_campaign[row.campaign_id].append(row.linkedinaccount)
        new = {pk: account for pk, account in accounts.items() if (pk, self.KINDS[0]) not in self.remaining}
        if not new:
            return
        days = {pk: account.today(self.now) for pk, account in new.items()}
        usage = {
            (u.account_id, u.day): u for u in RateUsage.objects.filter(account_id__in=new, day__in=set(days.values()))
        }
        queued = defaultdict(int)
        for row in (
            OutboundAction.objects.filter(account_id__in=new, status__in=[Status.QUEUED, Status.FAILED])
            .values("account_id", "action")
            .annotate(n=Count("pk"))
        ):
            queued[(row["account_id"], row["action"])] = row["n"]
        for pk, account in new.items():
            for kind in self.KINDS:
                used = getattr(usage.get((pk, days[pk])), limits.counter_for(kind), 0)
                cap = account.cap_of_day(kind, days[pk])
                self.remaining[(pk, kind)] = cap - used - queued[(pk, kind)]

    def pick(self, campaign_id: int, kind: str) -> LinkedInAccount | None:
        senders = self.by_campaign.get(campaign_id) or []
        if not senders:
            return None
        working = [s for s in senders if s.can_work] or senders
        best = max(working, key=lambda s: (self.remaining[(s.pk, kind)], -s.pk))
        self.remaining[(best.pk, kind)] -= 1
        return best


PARK_COLUMNS = (
    ("id", "bigint"),
    ("sender_id", "bigint"),
    ("step_id", "bigint"),
    ("current_step", "integer"),
    ("next_action_at", "timestamp with time zone"),
    ("condition_until", "timestamp with time zone"),
)


def _park(leads: list[Lead]) -> None:
    """Write each planned lead's place (sender, step, last step done, when it is due, its condition's window) in
    one statement per batch (bulk_update's CASE is far slower)."""
    if not leads:
        return
    table, quote = Lead._meta.db_table, connection.ops.quote_name
    params = [
        value
        for lead in leads
        for value in (
            lead.pk,
            lead.sender_id,
            lead.step_id,
            lead.current_step,
            connection.ops.adapt_datetimefield_value(lead.next_action_at),
            connection.ops.adapt_datetimefield_value(lead.condition_until),
        )
    ]
    names = [name for name, _ in PARK_COLUMNS]
    if connection.vendor == "postgresql":
        row = "(" + ", ".join(f"%s::{kind}" for _, kind in PARK_COLUMNS) + ")"
        source = f"(VALUES {', '.join([row] * len(leads))}) AS v({', '.join(names)})"
        column = {name: f"v.{name}" for name in names}
    else:  # SQLite names the columns of a VALUES list column1, column2...
        row = "(" + ", ".join(["%s"] * len(PARK_COLUMNS)) + ")"
        source = f"(VALUES {', '.join([row] * len(leads))}) AS v"
        column = {name: f"v.column{i + 1}" for i, name in enumerate(names)}
    sets = ", ".join(f"{quote(name)} = {column[name]}" for name in names[1:])
    sql = (
        f"UPDATE {quote(table)} SET {sets} "  # noqa: S608 - placeholders only
        f"FROM {source} WHERE {quote(table)}.id = {column['id']}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _condition_holds(step: Step, lead: Lead) -> bool:
    C = Step.Condition
    if step.condition == C.ACCEPTED or step.condition == C.CONNECTED:
        return lead.connected_at is not None or lead.status in (LeadStatus.CONNECTED, LeadStatus.MESSAGED)
    if step.condition == C.HAS_EMAIL:
        return bool(lead.email.strip())
    if step.condition == C.INMAIL_CREDITS:
        # Unknown credits mean "try": the InMail step itself skips when LinkedIn says there are none.
        credits = lead.sender.inmail_credits if lead.sender else None
        return credits is None or credits > 0
    return False  # replied: a reply stops the lead before the planner sees it again


def _walk(lead: Lead, step: Step | None, sequence: Sequence, calendar: WorkCalendar, now: dt.datetime):
    """Pass the conditions and waits that can be decided now. Returns (node to act on or park at, due, last node
    done, condition_until): due None means act now; a node None means the sequence is over."""
    done = None
    for _ in range(MAX_HOPS):
        if step is None or step.sends:
            return step, None, done, None
        if step.action == Step.Action.WAIT:
            branch = Step.Branch.NEXT  # the wait itself was the delay before this moment
        elif _condition_holds(step, lead):
            branch = Step.Branch.YES
        elif step.condition in Step.WINDOW_CONDITIONS:
            until = lead.condition_until if lead.step_id == step.pk and lead.condition_until else None
            if until is None:
                until = calendar.add_working_days(now, step.within_days or 0)
            if until > now:
                return step, until, done, until  # wait at the condition until its window ends
            branch = Step.Branch.NO
        else:
            branch = Step.Branch.NO
        child = sequence.child(step, branch)
        done = step
        if child is None:
            return None, None, done, None
        due = calendar.add_working_days(now, child.delay_days, child.delay_hours)
        if due > now:
            return child, due, done, None
        step = child
    raise ValueError(f"lead {lead.pk}: more than {MAX_HOPS} conditions and waits in a row")


def _plan_batch(leads: list[Lead], now: dt.datetime, senders: _Senders) -> PlanResult:
    result = PlanResult(batches=1)
    campaign_ids = {lead.campaign_id for lead in leads}
    by_campaign: dict[int, list[Step]] = defaultdict(list)
    for step in Step.objects.filter(campaign_id__in=campaign_ids):
        by_campaign[step.campaign_id].append(step)
    sequences = {cid: Sequence(steps) for cid, steps in by_campaign.items()}
    if any(lead.sender_id is None for lead in leads):
        senders.ensure(campaign_ids)  # sticky leads need no choice: no capacity to load for them
    dnc = dnc_hits(leads)
    existing = {
        (row["lead_id"], row["step_id"]): row
        for row in OutboundAction.objects.filter(lead__in=leads, step__isnull=False).values(
            "pk", "lead_id", "step_id", "status"
        )
    }
    calendars = {cid: WorkCalendar.for_campaign(lead.campaign) for lead in leads for cid in [lead.campaign_id]}

    new_actions, revive, touched, moved = [], [], [], []
    for lead in leads:
        sequence = sequences.get(lead.campaign_id) or Sequence([])
        calendar = calendars[lead.campaign_id]
        if reason := dnc.get(lead.pk):
            lead_transition(lead=lead, to=LeadStatus.DO_NOT_CONTACT, reason=reason, when=now)
            result.stopped += 1
            continue
        start = sequence.place_of(lead)
        try:
            step, due, done, until = _walk(lead, start, sequence, calendar, now)
        except ValueError as exc:
            lead_transition(lead=lead, to=LeadStatus.ERROR, reason=str(exc), when=now)
            result.errors += 1
            continue
        if done is not None:
            lead.current_step = done.position
        if step is None:
            lead.step, lead.condition_until = None, None
            if lead.status == LeadStatus.INVITED:
                lead.next_action_at = None  # the invitation may still be accepted: the sequence ends after it
                touched.append(lead)
                continue
            _save_position(lead)
            lead_transition(lead=lead, to=LeadStatus.COMPLETED, reason="sequence finished", when=now)
            result.completed += 1
            continue
        if due is not None:  # parked: at a condition's window, or before a step's delay
            lead.step, lead.condition_until, lead.next_action_at = step, until, due
            moved.append(lead)
            result.waiting += 1
            continue
        lead.step, lead.condition_until = step, None
        if lead.status == LeadStatus.INVITED and (
            sequence.waits_for_acceptance(step) or step.action == Step.Action.INVITE
        ):
            lead.next_action_at = None  # the step after an invitation waits for the acceptance
            moved.append(lead)
            result.waiting += 1
            continue
        previous = existing.get((lead.pk, step.pk))
        if previous and previous["status"] in (Status.QUEUED, Status.CLAIMED, Status.FAILED, Status.SENT):
            lead.next_action_at = None  # already on its way (or done): wait for it
            moved.append(lead)
            result.waiting += 1
            continue
        variant = choose_variant(lead_id=lead.pk, step_id=step.pk, has_variant_b=step.has_variant_b)
        template = step.template_b if variant == "B" else step.template
        text = ""
        if template.strip():
            rendered = render(template, lead, invite_note=step.action == Step.Action.INVITE)
            if not rendered.ok:
                _save_position(lead)
                lead_transition(
                    lead=lead,
                    to=LeadStatus.ERROR,
                    reason=f"Step {step.position} ({step.display_label}): " + " ".join(rendered.problems),
                    when=now,
                )
                result.errors += 1
                continue
            text = rendered.text
        account = lead.sender or senders.pick(lead.campaign_id, step.action)
        if account is None:
            lead_transition(lead=lead, to=LeadStatus.ERROR, reason="The campaign has no sender account.", when=now)
            result.errors += 1
            continue
        scheduled = calendar.next_working_moment(now)
        fields = {
            "account": account,
            "action": step.action,
            "text": text,
            "variant": variant if step.has_variant_b else "",
            "scheduled_for": scheduled,
        }
        if previous:  # dead or cancelled before: the same row goes back to the queue
            revive.append((previous["pk"], fields))
        else:
            new_actions.append(OutboundAction(lead=lead, step=step, **fields))
        lead.sender, lead.next_action_at = account, None
        touched.append(lead)

    with transaction.atomic():
        # ignore_conflicts: a concurrent planner that got there first already queued (lead, step).
        OutboundAction.objects.bulk_create(new_actions, ignore_conflicts=True, batch_size=500)
        for pk, fields in revive:
            OutboundAction.objects.filter(pk=pk, status__in=[Status.DEAD, Status.CANCELLED]).update(
                status=Status.QUEUED, attempts=0, last_error="", outcome_unknown=False, claimed_at=None, **fields
            )
        _park(touched + moved)
    result.planned += len(new_actions)
    result.revived += len(revive)
    return result


def _save_position(lead: Lead) -> None:
    Lead.objects.filter(pk=lead.pk).update(
        step=lead.step, condition_until=lead.condition_until, current_step=lead.current_step
    )
