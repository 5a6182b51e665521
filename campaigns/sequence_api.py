"""GET/PUT /api/v1/campaigns/{id}/sequence: the whole graph in one document, checked whole.

A node names the nodes after it: `next` after an action or a wait, `yes` and `no` after a condition (null: the
sequence ends there). Keys are the document's own names; `id` keeps a stored step (and its history).
"""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from outreach.api.exceptions import ApiError

from .models import Campaign, Step
from .sequence import (
    MAX_NODES,
    SEQUENCE,
    NodeSpec,
    Sequence,
    SequenceInUse,
    SequenceInvalid,
    sequence_problems,
    sequence_replace,
)

POINTERS = ("next", "yes", "no")


class NodeSerializer(serializers.Serializer):
    key = serializers.RegexField(
        r"^[A-Za-z0-9_.-]{1,40}$", help_text="The node's name in this document (letters, digits, _ . -)."
    )
    id = serializers.IntegerField(required=False, allow_null=True, help_text="The stored step this node keeps.")
    number = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=999, help_text="The step's number; kept when omitted."
    )
    type = serializers.ChoiceField(choices=Step.Action.choices)
    label = serializers.CharField(required=False, allow_blank=True, max_length=80, default="")
    condition = serializers.ChoiceField(choices=Step.Condition.choices, required=False, allow_blank=True, default="")
    within_days = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=365)
    delay_days = serializers.IntegerField(required=False, min_value=0, max_value=365, default=0)
    delay_hours = serializers.IntegerField(required=False, min_value=0, max_value=23, default=0)
    template = serializers.CharField(
        required=False, allow_blank=True, max_length=8000, default="", trim_whitespace=False
    )
    template_b = serializers.CharField(
        required=False, allow_blank=True, max_length=8000, default="", trim_whitespace=False
    )
    withdraw_after_days = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=365)
    next = serializers.CharField(required=False, allow_null=True, help_text="Actions and waits: the node after.")
    yes = serializers.CharField(required=False, allow_null=True, help_text="Conditions: the node when it holds.")
    no = serializers.CharField(
        required=False, allow_null=True, help_text="Conditions: the node when it does not (when its window ends)."
    )


class SequenceSerializer(serializers.Serializer):
    start = serializers.CharField(allow_null=True, help_text="The key of the first node.")
    nodes = NodeSerializer(many=True)


class SequenceOutSerializer(SequenceSerializer):
    version = serializers.CharField(read_only=True, help_text="Changes whenever the sequence does.")


def sequence_document(campaign: Campaign) -> dict:
    sequence = Sequence.of(campaign)
    nodes = []
    for step, _, _ in sequence.walk():
        node = {
            "key": str(step.position),
            "id": step.pk,
            "number": step.position,
            "type": step.action,
            "label": step.label,
            "condition": step.condition,
            "within_days": step.within_days,
            "delay_days": step.delay_days,
            "delay_hours": step.delay_hours,
            "template": step.template,
            "template_b": step.template_b,
            "withdraw_after_days": step.withdraw_after_days,
        }
        branches = (Step.Branch.YES, Step.Branch.NO) if step.is_condition else (Step.Branch.NEXT,)
        for branch in branches:
            child = sequence.child(step, branch)
            node[branch] = str(child.position) if child else None
        nodes.append(node)
    version = "-".join(f"{s.pk}.{s.parent_id}.{s.branch}" for s in sequence.steps) or "empty"
    return {"start": str(sequence.root.position) if sequence.root else None, "nodes": nodes, "version": version}


def specs_from_document(raw_nodes: list, nodes: list[dict], start) -> list[NodeSpec]:
    """The document's nodes as specs; the document's own mistakes (pointers, paths that do not fit the node, a
    missing no path, two nodes leading to one, loops, unreachable nodes) raise SequenceInvalid by node."""
    problems: dict[str, dict[str, list[str]]] = {}

    def add(key, name, message):
        problems.setdefault(key, {}).setdefault(name, []).append(message)

    by_key: dict[str, dict] = {}
    for node in nodes:
        if node["key"] in by_key:
            add(node["key"], "key", "Two nodes have this key: each node needs its own.")
        by_key[node["key"]] = node
    if not nodes:
        add(SEQUENCE, "nodes", "The sequence has no nodes: add at least one.")
    if len(nodes) > MAX_NODES:
        add(SEQUENCE, "nodes", f"At most {MAX_NODES} nodes in a sequence; this one has {len(nodes)}.")
    if start is None or start not in by_key:
        add(SEQUENCE, "start", f"start names {start!r}, which is not a node of this document.")
    parent_of: dict[str, tuple[str, str]] = {}
    for raw, node in zip(raw_nodes, nodes, strict=True):
        key = node["key"]
        is_condition = node["type"] == Step.Action.CONDITION
        allowed = ("yes", "no") if is_condition else ("next",)
        for pointer in POINTERS:
            if pointer not in allowed and raw.get(pointer) is not None:
                kind = "a condition" if is_condition else "not a condition"
                add(key, pointer, f"This node is {kind}: it has no {pointer} path (use {' and '.join(allowed)}).")
        if is_condition:
            for pointer in ("yes", "no"):
                if pointer not in raw:
                    add(key, pointer, f"A condition needs its {pointer} path: a node's key, or null to end there.")
        for pointer in allowed:
            target = node.get(pointer)
            if target is None:
                continue
            if target not in by_key:
                add(key, pointer, f"{target!r} is not a node of this document.")
            elif target in parent_of:
                other = parent_of[target][0]
                add(key, pointer, f"Node {other} already leads to {target}: a node follows only one other (copy it).")
            elif target == start:
                add(key, pointer, f"{target} is the start: pointing back to it makes a loop.")
            else:
                parent_of[target] = (key, pointer)
    if problems:
        raise SequenceInvalid(problems)
    # Walk from the start: what is not reached is either in a loop or led to by nothing.
    reached, stack = set(), [start]
    while stack:
        key = stack.pop()
        if key in reached:
            continue
        reached.add(key)
        stack.extend(by_key[key][p] for p in POINTERS if by_key[key].get(p) is not None)
    for key in by_key:
        if key not in reached:
            if key in parent_of:
                add(key, "key", "This node is in a loop that never reaches the start: a sequence cannot go round.")
            else:
                add(key, "key", "Nothing leads to this node from the start: it would never run.")
    if problems:
        raise SequenceInvalid(problems)
    specs = []
    for node in nodes:
        parent, branch = parent_of.get(node["key"], (None, Step.Branch.NEXT))
        fields = {
            "action": node["type"],
            "label": node.get("label", ""),
            "condition": node.get("condition", ""),
            "within_days": node.get("within_days"),
            "delay_days": node.get("delay_days", 0),
            "delay_hours": node.get("delay_hours", 0),
            "template": node.get("template", ""),
            "template_b": node.get("template_b", ""),
            "withdraw_after_days": node.get("withdraw_after_days"),
        }
        specs.append(
            NodeSpec(
                key=node["key"], id=node.get("id"), position=node.get("number"), parent=parent, branch=branch,
                fields=fields,
            )
        )  # fmt: skip
    return specs


def _invalid(exc: SequenceInvalid, status: int = 400, code: str = "validation_error"):
    nodes = {key: fields for key, fields in exc.problems.items() if key != SEQUENCE}
    details = {"nodes": nodes}
    if SEQUENCE in exc.problems:
        details["sequence"] = [m for messages in exc.problems[SEQUENCE].values() for m in messages]
    return ApiError(status, code, str(exc), details)


EXAMPLE = {
    "start": "invite",
    "nodes": [
        {"key": "invite", "type": "invite", "label": "Invitation", "template": "", "next": "accepted"},
        {
            "key": "accepted",
            "type": "condition",
            "condition": "accepted",
            "within_days": 14,
            "yes": "message1",
            "no": "withdraw",
        },
        {"key": "message1", "type": "message", "template": "Thanks for connecting, {first_name|there}!", "next": None},
        {"key": "withdraw", "type": "withdraw", "next": "follow"},
        {"key": "follow", "type": "follow", "delay_days": 1, "next": None},
    ],
}


class CampaignSequenceMixin:
    """GET/PUT /campaigns/{id}/sequence, added on CampaignViewSet."""

    @extend_schema(
        methods=["get"], summary="A campaign's sequence as one graph document", responses=SequenceOutSerializer
    )
    @extend_schema(
        methods=["put"],
        summary="Replace a campaign's sequence: the graph is checked whole, errors point at the node",
        request=SequenceSerializer,
        responses={
            200: SequenceOutSerializer,
            400: OpenApiResponse(
                description="`details.nodes` names each node's problems; `details.sequence` the rest."
            ),
            409: OpenApiResponse(description="A node left out has history (actions sent, leads waiting at it)."),
        },
        examples=[OpenApiExample("Invite, then branch on acceptance", value=EXAMPLE, request_only=True)],
    )
    @action(detail=True, methods=["get", "put"], pagination_class=None, filter_backends=[])
    def sequence(self, request, pk=None):
        campaign = self.get_object()  # reading needs a viewer, writing an agent (the view's levels)
        if request.method == "GET":
            return Response(sequence_document(campaign))
        form = SequenceSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        raw_nodes = [n if isinstance(n, dict) else {} for n in request.data.get("nodes", [])]
        try:
            specs = specs_from_document(raw_nodes, form.validated_data["nodes"], form.validated_data["start"])
            if problems := sequence_problems(campaign.kind, specs):
                raise SequenceInvalid(problems)
            sequence_replace(campaign=campaign, specs=specs)
        except SequenceInUse as exc:
            raise _invalid(exc, 409, "conflict") from None
        except SequenceInvalid as exc:
            raise _invalid(exc) from None
        campaign.refresh_from_db()
        return Response(sequence_document(campaign))
