"""A campaign's sequence as a graph: reading it, checking it whole, and writing it in one go.

Stored as a tree of Step rows (parent, branch). Every way in (the API's sequence document, the campaign's
step list, the admin's inline, the ready-made shapes) hands `sequence_replace` a list of NodeSpec: the same
checks, the same refusal (SequenceInvalid, with the problems by node), nothing written when anything is wrong.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from leads.models import Lead

from .models import Campaign, OutboundAction, Step

MAX_NODES = 40
SEQUENCE = "sequence"  # the key of problems that belong to no node
A = Step.Action
C = Step.Condition

# Fields of a node that a spec may set (the rest is structure: parent and branch).
NODE_FIELDS = (
    "label",
    "action",
    "condition",
    "within_days",
    "delay_days",
    "delay_hours",
    "template",
    "template_b",
    "withdraw_after_days",
)


class Sequence:
    """The stored nodes of one campaign, navigable: root, children by branch, parents."""

    def __init__(self, steps: list[Step]):
        self.steps = sorted(steps, key=lambda s: s.position)
        self.by_id = {s.pk: s for s in self.steps}
        self.children: dict[tuple[int, str], Step] = {}
        for step in self.steps:
            if step.parent_id is not None:
                self.children[(step.parent_id, step.branch)] = step
        roots = [s for s in self.steps if s.parent_id is None]
        self.root = roots[0] if roots else None

    @classmethod
    def of(cls, campaign: Campaign) -> "Sequence":
        return cls(list(campaign.steps.all()))

    def child(self, step: Step, branch: str = Step.Branch.NEXT) -> Step | None:
        return self.children.get((step.pk, branch))

    def parent(self, step: Step) -> Step | None:
        return self.by_id.get(step.parent_id)

    def walk(self) -> list[tuple[Step, int, str]]:
        """Every node once, depth first from the root (next and yes before no): (node, depth, branch)."""
        out: list[tuple[Step, int, str]] = []
        if self.root is None:
            return out
        stack = [(self.root, 0, "")]
        seen: set[int] = set()
        while stack:
            step, depth, branch = stack.pop()
            if step.pk in seen:
                continue
            seen.add(step.pk)
            out.append((step, depth, branch))
            for b in (Step.Branch.NO, Step.Branch.YES, Step.Branch.NEXT):  # pushed in reverse: next/yes first
                if (child := self.child(step, b)) is not None:
                    stack.append((child, depth + 1, b))
        return out

    def at_position(self, position: int) -> Step | None:
        return next((s for s in self.steps if s.position == position), None)

    def place_of(self, lead) -> Step | None:
        """The step a lead is at: its step; before the first step, the root; else the step after the last one it
        did (for leads placed by number only), None when that was the last."""
        if lead.step_id:
            return self.by_id.get(lead.step_id)
        if lead.current_step == 0:
            return self.root
        done = self.at_position(lead.current_step)
        return self.child(done) if done is not None and not done.is_condition else None

    def waits_for_acceptance(self, step: Step) -> bool:
        """The node right after an invitation (on its next path) waits for the acceptance, as a linear
        sequence always did; a condition there decides instead."""
        parent = self.parent(step)
        return bool(parent and parent.action == A.INVITE and step.sends)


# --- Specs and their checks ----------------------------------------------------------------------


@dataclass
class NodeSpec:
    """One node as a way in gives it: key is how the others refer to it (unique in the list); id, when given,
    is the stored step it keeps (with its history); parent is the key of the node it comes after."""

    key: str
    fields: dict
    parent: str | None = None
    branch: str = Step.Branch.NEXT
    id: int | None = None
    position: int | None = None


class SequenceInvalid(Exception):
    """The sequence has problems: by node key (SEQUENCE for the whole), each a dict field -> messages."""

    code = "validation_error"

    def __init__(self, problems: dict[str, dict[str, list[str]]]):
        self.problems = problems
        count = sum(len(m) for fields in problems.values() for m in fields.values())
        first = next(
            (f"{_where(key)}{messages[0]}" for key, fields in problems.items() for messages in fields.values()), ""
        )
        super().__init__(f"The sequence has {count} problem(s). {first}".strip())

    def messages(self) -> list[str]:
        return [
            f"{_where(key)}{message}"
            for key, fields in self.problems.items()
            for messages in fields.values()
            for message in messages
        ]


def _where(key: str) -> str:
    return "" if key == SEQUENCE else f"Step {key}: "


class _Problems:
    def __init__(self):
        self.by_node: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))

    def add(self, key: str, message: str, field_name: str = "non_field_errors") -> None:
        if message not in self.by_node[key][field_name]:
            self.by_node[key][field_name].append(message)

    def as_dict(self) -> dict[str, dict[str, list[str]]]:
        return {key: dict(fields) for key, fields in self.by_node.items() if fields}


def _probe(spec: NodeSpec, parent: Step | None) -> Step:
    step = Step(**{name: value for name, value in spec.fields.items() if name in NODE_FIELDS})
    step.template = step.template or ""
    step.template_b = step.template_b or ""
    step.label = step.label or ""
    step.condition = step.condition or ""
    step.branch = spec.branch
    step.parent = parent
    return step


def sequence_problems(kind: str, specs: list[NodeSpec]) -> dict[str, dict[str, list[str]]]:
    """Everything wrong with a sequence, by node: each node's own checks, then the graph's (one first node, no
    loops, nothing unreachable, branches that fit their node, connections before messages)."""
    from .services import step_problems  # the per-node checks live with the other step rules

    problems = _Problems()
    if not specs:
        problems.add(SEQUENCE, "The sequence has no steps: add at least one.")
        return problems.as_dict()
    if len(specs) > MAX_NODES:
        problems.add(SEQUENCE, f"At most {MAX_NODES} steps in a sequence; this one has {len(specs)}.")
    by_key: dict[str, NodeSpec] = {}
    for spec in specs:
        if spec.key in by_key:
            problems.add(spec.key, "Two steps have this key: each step needs its own.", "key")
        by_key[spec.key] = spec
    probes = {key: _probe(spec, None) for key, spec in by_key.items()}
    for key, spec in by_key.items():
        parent = by_key.get(spec.parent) if spec.parent is not None else None
        if spec.parent is not None and parent is None:
            problems.add(key, f"It comes after {spec.parent!r}, which is not a step of this sequence.", "after")
            continue
        probes[key].parent = probes[spec.parent] if parent else None
    for key, probe in probes.items():
        for name, messages in step_problems(probe).items():
            for message in messages:
                problems.add(key, message, name)

    roots = [key for key, spec in by_key.items() if spec.parent is None]
    if not roots:
        problems.add(SEQUENCE, "No first step: every step comes after another one, so the steps form a loop.")
    elif len(roots) > 1:
        for key in roots[1:]:
            problems.add(key, f"Only the first step ({roots[0]}) comes after nothing: say which step this one follows.")
    taken: dict[tuple[str, str], str] = {}
    for key, spec in by_key.items():
        parent = by_key.get(spec.parent) if spec.parent is not None else None
        if parent is None:
            continue
        parent_is_condition = parent.fields.get("action") == A.CONDITION
        if parent_is_condition and spec.branch not in (Step.Branch.YES, Step.Branch.NO):
            problems.add(
                key, f"Step {parent.key} is a condition: say whether this is its yes or its no path.", "branch"
            )
            continue
        if not parent_is_condition and spec.branch != Step.Branch.NEXT:
            problems.add(key, f"Step {parent.key} is not a condition: it has no {spec.branch} path.", "branch")
            continue
        if (spec.parent, spec.branch) in taken:
            other = taken[(spec.parent, spec.branch)]
            where = "" if spec.branch == Step.Branch.NEXT else f" on its {spec.branch} path"
            problems.add(key, f"Step {other} already comes after step {parent.key}{where}: only one step can.")
            continue
        taken[(spec.parent, spec.branch)] = key

    # Reachability and loops: walk down from the first step.
    children: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for (parent_key, branch), child_key in taken.items():
        children[parent_key].append((branch, child_key))
    reached: set[str] = set()
    if roots:
        stack = [roots[0]]
        while stack:
            key = stack.pop()
            if key in reached:
                continue
            reached.add(key)
            stack.extend(child for _, child in children[key])
    for key, spec in by_key.items():
        if key in reached or key in roots:
            continue
        if _in_loop(key, by_key):
            problems.add(key, "It leads back to itself through the steps it comes after: a loop never ends.", "after")
        elif spec.parent in by_key:
            problems.add(key, "Nothing leads to this step from the first one: it would never run.", "after")

    for key, spec in by_key.items():
        if spec.fields.get("action") != A.CONDITION:
            continue
        paths = {branch for branch, _ in children[key]}
        if spec.fields.get("condition") == C.REPLIED and Step.Branch.YES in paths:
            problems.add(
                key, "A reply always ends the sequence: the yes path of \u201creplied\u201d stays empty.", "yes"
            )
        if not paths and spec.fields.get("condition") != C.REPLIED:
            problems.add(key, "Both paths of this condition are empty: it decides nothing.", "no")
    if roots and not problems.by_node.get(SEQUENCE):
        _check_connections(kind, roots[0], by_key, children, problems)
    return problems.as_dict()


def _in_loop(key: str, by_key: dict[str, NodeSpec]) -> bool:
    seen, current = set(), key
    while current is not None and current in by_key:
        if current in seen:
            return True
        seen.add(current)
        current = by_key[current].parent
    return False


NONE, INVITED, CONNECTED = "not connected", "invited", "connected"


def _check_connections(kind: str, root: str, by_key, children, problems: _Problems) -> None:
    """Along every path: a message needs a connection; one invitation per path; a withdrawal needs one."""
    invites = [key for key, spec in by_key.items() if spec.fields.get("action") == A.INVITE]
    if kind == Campaign.Kind.MESSENGER:
        for key in invites:
            problems.add(
                key, "A messenger campaign works 1st-degree connections and cannot have an invitation step.", "action"
            )
    elif not invites:
        problems.add(SEQUENCE, "A connector campaign needs an invitation step.")
    stack = [(root, CONNECTED if kind == Campaign.Kind.MESSENGER else NONE)]
    seen: set[str] = set()
    while stack:
        key, state = stack.pop()
        if key in seen:
            continue
        seen.add(key)
        spec = by_key[key]
        action, condition = spec.fields.get("action"), spec.fields.get("condition")
        after = dict(children[key])
        nxt = after.get(Step.Branch.NEXT)
        if action == A.MESSAGE and state == NONE:
            problems.add(
                key,
                "A message step comes before the invitation on this path: messages need a connection (an InMail "
                "can go anywhere).",
                "action",
            )
        elif action == A.MESSAGE and state == INVITED:
            problems.add(
                key,
                "A message here goes to someone who has not accepted: put it on the yes path of \u201cinvitation "
                "accepted\u201d, or right after the invitation (it then waits for the acceptance).",
                "action",
            )
        if action == A.INVITE and kind != Campaign.Kind.MESSENGER:
            if state == CONNECTED:
                problems.add(key, "On this path the person is already a connection: no invitation to send.", "action")
            elif state == INVITED:
                problems.add(key, "An invitation is already pending on this path: one invitation per path.", "action")
            waits = nxt is not None and by_key[nxt].fields.get("action") in Step.SENDING
            if nxt is not None:
                stack.append((nxt, CONNECTED if waits else INVITED))
            continue
        if action == A.WITHDRAW:
            if state != INVITED:
                problems.add(
                    key,
                    "Nothing to withdraw on this path: put it after an invitation, e.g. on the no path of "
                    "\u201cinvitation accepted\u201d.",
                    "action",
                )
            if nxt is not None:
                stack.append((nxt, NONE))
            continue
        if action == A.CONDITION:
            yes, no = after.get(Step.Branch.YES), after.get(Step.Branch.NO)
            if condition == C.ACCEPTED:
                if state == NONE:
                    problems.add(key, "No invitation comes before this condition on its path.", "condition")
                yes_state, no_state = CONNECTED, state
            elif condition == C.CONNECTED:
                yes_state, no_state = CONNECTED, (NONE if state == CONNECTED else state)
            else:
                yes_state = no_state = state
            if yes is not None:
                stack.append((yes, yes_state))
            if no is not None:
                stack.append((no, no_state))
            continue
        if nxt is not None:
            stack.append((nxt, state))


# --- Writing -------------------------------------------------------------------------------------


class SequenceInUse(SequenceInvalid):
    """Steps with history (actions queued or sent, leads waiting at them) cannot be removed."""

    code = "conflict"


def steps_with_history(steps) -> dict[int, str]:
    """Steps (by id) that cannot be removed, with why."""
    ids = [s.pk for s in steps if s.pk]
    used = set(OutboundAction.objects.filter(step_id__in=ids).values_list("step_id", flat=True).distinct())
    here = set(Lead.objects.filter(step_id__in=ids).values_list("step_id", flat=True).distinct())
    why = {}
    for pk in ids:
        if pk in used:
            why[pk] = "it already has actions for leads: their send history would go with it"
        elif pk in here:
            why[pk] = "leads are at this step right now"
    return why


@transaction.atomic
def sequence_replace(*, campaign: Campaign, specs: list[NodeSpec]) -> list[Step]:
    """The campaign's sequence becomes this one, checked whole first. Stored steps named by id (or, when a spec
    has no id, by position) are changed in place and keep their history and number; the others are added; the
    stored steps left out are removed unless they have history (SequenceInUse, nothing written)."""
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if problems := sequence_problems(locked.kind, specs):
        raise SequenceInvalid(problems)
    existing = {step.pk: step for step in Step.objects.select_for_update().filter(campaign=locked)}
    by_position = {step.position: step for step in existing.values()}
    rows: dict[str, Step] = {}
    unknown = _Problems()
    for spec in specs:
        step = None
        if spec.id is not None:
            step = existing.get(spec.id)
            if step is None:
                unknown.add(spec.key, f"Step id {spec.id} is not a step of this campaign.", "id")
        elif spec.position is not None:
            step = by_position.get(spec.position)
        if step is not None and any(row.pk == step.pk for row in rows.values()):
            step = None
        rows[spec.key] = step or Step(campaign=locked)
    if unknown.by_node:
        raise SequenceInvalid(unknown.as_dict())
    kept = {row.pk for row in rows.values() if row.pk}
    removed = [step for pk, step in existing.items() if pk not in kept]
    if blocked := steps_with_history(removed):
        raise SequenceInUse(
            {
                str(existing[pk].position): {
                    "non_field_errors": [f"Step {existing[pk].position} cannot be removed: {why}."]
                }
                for pk, why in blocked.items()
            }
        )
    # Each step's number: the one given, else the one it had, else the next free one.
    final: dict[str, int] = {spec.key: spec.position for spec in specs if spec.position}
    taken = set(final.values())
    next_free = max([0, *taken, *(row.position for row in rows.values() if row.pk)]) + 1
    for spec in specs:
        if spec.key in final:
            continue
        row = rows[spec.key]
        if row.pk and row.position not in taken:
            final[spec.key] = row.position
        else:
            final[spec.key], next_free = next_free, next_free + 1
        taken.add(final[spec.key])
    # Detach and park everything first (the tree and the numbers are unique), then write parents before children.
    for offset, step in enumerate(existing.values()):
        Step.objects.filter(pk=step.pk).update(parent=None, position=10_000 + offset)
    Step.objects.filter(pk__in=[s.pk for s in removed]).delete()
    for spec in specs:
        rows[spec.key].position = final[spec.key]
    by_key = {spec.key: spec for spec in specs}
    written: set[str] = set()

    def write(key: str) -> None:
        if key in written:
            return
        spec = by_key[key]
        if spec.parent is not None:
            write(spec.parent)
        row = rows[key]
        for name in NODE_FIELDS:
            if name in spec.fields:
                value = spec.fields[name]
                setattr(
                    row,
                    name,
                    "" if value is None and name in ("template", "template_b", "label", "condition") else value,
                )
        row.parent = rows[spec.parent] if spec.parent is not None else None
        row.branch = spec.branch
        row.save()
        written.add(key)

    for spec in specs:
        write(spec.key)
    return [rows[spec.key] for spec in specs]


def linear_specs(steps: list[dict]) -> list[NodeSpec]:
    """A list of steps in position order, each after the one before: how a linear sequence is given."""
    specs = []
    previous = None
    for data in sorted(steps, key=lambda d: d["position"]):
        data = dict(data)
        key = str(data["position"])
        specs.append(
            NodeSpec(
                key=key,
                id=data.pop("id", None),
                position=data.pop("position"),
                parent=previous,
                fields=data,
            )
        )
        previous = key
    return specs


def stored_specs(campaign: Campaign) -> list[NodeSpec]:
    """The stored sequence as specs (to check it again, e.g. at activation)."""
    steps = list(campaign.steps.all())
    position = {s.pk: str(s.position) for s in steps}
    return [
        NodeSpec(
            key=str(s.position),
            id=s.pk,
            position=s.position,
            parent=position.get(s.parent_id),
            branch=s.branch,
            fields={name: getattr(s, name) for name in NODE_FIELDS},
        )
        for s in steps
    ]


# --- Ready-made shapes ---------------------------------------------------------------------------


def node(key: str, parent: str | None = None, branch: str = Step.Branch.NEXT, **fields) -> NodeSpec:
    """A spec in one line: node("2", "1", "yes", action="message", template="…")."""
    fields.setdefault("template", "")
    return NodeSpec(key=key, parent=parent, branch=branch, fields=fields)


THANKS = "Thanks for connecting, {first_name|there}!"


def _invite_then_branch(parent: str | None, days: int, **invite) -> list[NodeSpec]:
    """An invitation, then "accepted within `days` working days?" with a first message on its yes path."""
    return [
        node("invite", parent, action=A.INVITE, label="Invitation", **invite),
        node("accepted", "invite", action=A.CONDITION, condition=C.ACCEPTED, within_days=days, label="Accepted?"),
        node("message1", "accepted", "yes", action=A.MESSAGE, label="Message 1", template=THANKS),
    ]


def _shape_branching(days: int) -> list[NodeSpec]:
    return [
        *_invite_then_branch(None, days),
        node("wait", "message1", action=A.WAIT, label="Wait 3 days", delay_days=3),
        node(
            "message2",
            "wait",
            action=A.MESSAGE,
            label="Message 2",
            template="Hi {first_name|there}, did you have a chance to look at this?",
        ),
        node("withdraw", "accepted", "no", action=A.WITHDRAW, label="Withdraw invitation"),
        node("follow", "withdraw", action=A.FOLLOW, label="Follow", delay_days=1),
        node(
            "inmail",
            "follow",
            action=A.INMAIL,
            label="InMail",
            delay_days=2,
            template="Hi {first_name|there}, I tried to connect but it may have got lost: may I tell you more?",
        ),
    ]


def _shape_linear() -> list[NodeSpec]:
    return linear_specs(
        [
            {"position": 1, "action": A.INVITE, "label": "Invitation", "template": ""},
            {"position": 2, "action": A.MESSAGE, "label": "Message 1", "delay_days": 1, "template": THANKS},
            {"position": 3, "action": A.MESSAGE, "label": "Message 2", "delay_days": 3,
             "template": "Hi {first_name|there}, did you have a chance to look at this?"},
        ]
    )  # fmt: skip


def _shape_warm_up(days: int) -> list[NodeSpec]:
    return [
        node("visit", None, action=A.VISIT, label="Visit"),
        node("follow", "visit", action=A.FOLLOW, label="Follow", delay_days=1),
        node("like", "follow", action=A.LIKE, label="Like latest post", delay_days=1),
        *_invite_then_branch("like", days, delay_days=1),
        node("withdraw", "accepted", "no", action=A.WITHDRAW, label="Withdraw invitation"),
    ]


SHAPES = {
    "branching": (
        "Invite; if accepted within 14 days: message, wait 3 days, message; else: withdraw, follow, InMail",
        lambda: _shape_branching(14),
    ),
    "warm_up": (
        "Visit, follow, like a post, then invite; if accepted within 14 days: message; else: withdraw",
        lambda: _shape_warm_up(14),
    ),
    "linear": ("Invite, then two messages (a linear sequence)", _shape_linear),
}


def sequence_apply_shape(*, campaign: Campaign, shape: str) -> list[Step]:
    """Replace the sequence with a ready-made shape (refused like any replacement when steps have history)."""
    if shape not in SHAPES:
        raise SequenceInvalid({SEQUENCE: {"shape": [f"{shape!r} is not a ready-made sequence."]}})
    return sequence_replace(campaign=campaign, specs=SHAPES[shape][1]())


# --- Why a lead waits ----------------------------------------------------------------------------


def lead_waiting(lead: Lead, *, now: dt.datetime | None = None) -> str:
    """What the lead waits for, naming its step (and its condition's window)."""
    from .engine.calendar import WorkCalendar

    now = now or timezone.now()
    step = lead.step
    if lead.status not in ("pending", "invited", "connected", "messaged"):
        return f"not waiting: the lead is {lead.get_status_display().lower()}"
    if step is None:
        if lead.current_step == 0:
            return "waiting for the campaign to start" if lead.next_action_at is None else "due for the first step"
        return "waiting for the acceptance (the sequence ends after it)" if lead.status == "invited" else "done"
    name = f"step {step.position} \u201c{step.display_label}\u201d"
    if step.is_condition:
        if lead.condition_until is None:
            return f"at {name}: checked on the next planner run"
        calendar = WorkCalendar.for_campaign(lead.campaign)
        left = calendar.working_days_between(now, lead.condition_until)
        what = "acceptance" if step.condition == C.ACCEPTED else "a reply"
        return (
            f"at {name}: waiting up to {step.within_days} working days for {what}: {left} left "
            f"(no path at {timezone.localtime(lead.condition_until, lead.campaign.timezone):%Y-%m-%d %H:%M})"
        )
    action = OutboundAction.objects.filter(lead=lead, step=step).only("status", "scheduled_for").first()
    if action is not None:
        return (
            f"{name}: action {action.get_status_display().lower()}, scheduled {action.scheduled_for:%Y-%m-%d %H:%M} UTC"
        )
    if lead.next_action_at is None:
        if lead.status == "invited":
            return f"waiting for the invitation to be accepted before {name}"
        return f"{name}: waiting"
    return f"{name}: due {timezone.localtime(lead.next_action_at, lead.campaign.timezone):%Y-%m-%d %H:%M}"


# --- The campaign page: the tree with its figures, and editing one node at a time -------------------


@dataclass
class TreeNode:
    step: Step
    branch: str
    at: int = 0  # leads at this step now (to do next, or waiting at a condition)
    waiting: int = 0  # of which waiting for a condition's window
    sent: int = 0
    replied: int = 0  # replies that came with this as the lead's last step done
    variants: dict = field(default_factory=dict)
    children: list["TreeNode"] = field(default_factory=list)

    @property
    def reply_rate(self) -> str:
        return f"{100 * self.replied / self.sent:.0f} %" if self.sent else ""


def sequence_tree(campaign: Campaign) -> TreeNode | None:
    """The sequence as nested nodes with their figures: a fixed number of grouped queries."""
    from django.db.models import Count, Q

    sequence = Sequence.of(campaign)
    if sequence.root is None:
        return None
    working = ["pending", "invited", "connected", "messaged"]
    at = defaultdict(lambda: [0, 0])
    for row in (
        Lead.objects.filter(campaign=campaign, status__in=working, step__isnull=False)
        .values("step_id")
        .annotate(n=Count("pk"), waiting=Count("pk", filter=Q(condition_until__isnull=False)))
    ):
        at[row["step_id"]] = [row["n"], row["waiting"]]
    sent, variants = defaultdict(int), defaultdict(dict)
    for row in (
        OutboundAction.objects.filter(step_id__in=sequence.by_id, status=OutboundAction.Status.SENT)
        .values("step_id", "variant")
        .annotate(n=Count("pk"))
    ):
        sent[row["step_id"]] += row["n"]
        if row["variant"]:
            variants[row["step_id"]][row["variant"]] = row["n"]
    replied = {
        row["current_step"]: row["n"]
        for row in Lead.objects.filter(campaign=campaign, status="replied")
        .values("current_step")
        .annotate(n=Count("pk"))
    }

    def build(step: Step, branch: str) -> TreeNode:
        node = TreeNode(
            step=step,
            branch=branch,
            at=at[step.pk][0],
            waiting=at[step.pk][1],
            sent=sent[step.pk],
            replied=replied.get(step.position, 0),
            variants=variants[step.pk],
        )
        order = (Step.Branch.YES, Step.Branch.NO) if step.is_condition else (Step.Branch.NEXT,)
        node.children = [build(child, b) for b in order if (child := sequence.child(step, b)) is not None]
        return node

    return build(sequence.root, "")


STARTER_TEXT = {A.MESSAGE: "Hi {first_name|there}, ", A.INMAIL: "Hi {first_name|there}, "}


def _edited(campaign: Campaign) -> tuple[list[NodeSpec], dict[str, NodeSpec]]:
    specs = stored_specs(campaign)
    return specs, {spec.key: spec for spec in specs}


def sequence_node_add(*, campaign: Campaign, after: Step | None, branch: str, action: str) -> list[Step]:
    """A new step after `after` on `branch` (before the step that was there, which now follows the new one); a
    condition is added as "accepted within 14 working days" with the old step on its yes path."""
    specs, _ = _edited(campaign)
    key = "new"
    fields = {"action": action, "template": STARTER_TEXT.get(action, "")}
    if action == A.CONDITION:
        fields.update(condition=C.ACCEPTED, within_days=14)
    elif action == A.WAIT:
        fields.update(delay_days=1)
    parent = str(after.position) if after else None
    displaced = next((s for s in specs if s.parent == parent and (s.branch == branch or parent is None)), None)
    specs.append(NodeSpec(key=key, parent=parent, branch=branch if parent else Step.Branch.NEXT, fields=fields))
    if displaced is not None:
        displaced.parent = key
        displaced.branch = Step.Branch.YES if action == A.CONDITION else Step.Branch.NEXT
    return sequence_replace(campaign=campaign, specs=specs)


def sequence_node_remove(*, campaign: Campaign, step: Step) -> list[Step]:
    """Remove a step without history: the step after it takes its place. A condition goes only when one of
    its paths is empty (the other takes its place)."""
    specs, by_key = _edited(campaign)
    key = str(step.position)
    children = [s for s in specs if s.parent == key]
    if len(children) > 1:
        raise SequenceInvalid(
            {key: {"non_field_errors": ["Both paths of this condition have steps: remove one path's steps first."]}}
        )
    gone = by_key[key]
    for child in children:
        child.parent, child.branch = gone.parent, gone.branch
    return sequence_replace(campaign=campaign, specs=[s for s in specs if s.key != key])


def sequence_node_move_up(*, campaign: Campaign, step: Step) -> list[Step]:
    """Swap a step with the one before it (both plain steps on one path): reorder without retyping."""
    specs, by_key = _edited(campaign)
    key = str(step.position)
    me = by_key[key]
    parent = by_key.get(me.parent) if me.parent else None
    if parent is None or parent.fields["action"] == A.CONDITION or me.fields["action"] == A.CONDITION:
        raise SequenceInvalid({key: {"non_field_errors": ["Only a step right after another plain step moves up."]}})
    for child in [s for s in specs if s.parent == key]:
        child.parent = parent.key  # a plain step has one child: me, which now comes first
    me.parent, me.branch, parent.parent, parent.branch = parent.parent, parent.branch, key, Step.Branch.NEXT
    return sequence_replace(campaign=campaign, specs=specs)
