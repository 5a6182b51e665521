"""The reports' rollups, kept with the event log.

Every event is saved through `record_event` (Event.save), in one transaction with:
- its step and variant columns (a reply gets the step it answers: the last one sent to the lead before it);
- the lead's LeadFunnel row for the campaign: when it was first invited, accepted, reached (invitation, message
  or InMail), messaged and replied, and the sender of its first outreach;
- delta rows of FunnelActivity and StepActivity for the event's quarter hour: the event itself, and a lead
  reaching a stage (or a step) for the first time. A first that an earlier, late-arriving event replaces moves
  its count from the old quarter hour to the new one.

Deltas are only ever inserted (no counter row is locked, so sends of one campaign never wait on each other);
`compact` folds them into one row per key, and reports sum whatever rows there are. `rebuild` recounts a
campaign's rollups from its events with the same rules (`manage.py rebuild_funnels`).

The lead's row is locked before its funnel row, the order in which the engine and the inbox lock them anyway.
"""

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Min, Q

from .models import FUNNEL_EVENT_TYPES, Event, EventType, FunnelActivity, Lead, LeadFunnel, StepActivity

E = EventType
OUTREACH_TYPES = frozenset({E.INVITE_SENT, E.MESSAGE_SENT, E.INMAIL_SENT})
MESSAGE_TYPES = frozenset({E.MESSAGE_SENT, E.INMAIL_SENT})
# LeadFunnel's times: the event types that reach the stage, and the FunnelActivity counter of leads reaching it.
FIRSTS = {
    "invited_at": (frozenset({E.INVITE_SENT}), "invited"),
    "accepted_at": (frozenset({E.INVITE_ACCEPTED}), "accepted"),
    "outreach_at": (OUTREACH_TYPES, None),
    "messaged_at": (MESSAGE_TYPES, "messaged"),
    "replied_at": (frozenset({E.REPLY_RECEIVED}), "replied"),
}
EVENT_COUNTER = {
    E.INVITE_SENT: "invitations",
    E.INVITE_ACCEPTED: "acceptances",
    E.MESSAGE_SENT: "messages",
    E.INMAIL_SENT: "messages",
    E.REPLY_RECEIVED: "replies",
}
SLOT = dt.timedelta(minutes=15)
EPOCH = dt.datetime(2000, 1, 3, tzinfo=dt.UTC)


def slot_of(when: dt.datetime) -> dt.datetime:
    """The quarter hour (UTC) an instant falls in."""
    return when - (when - EPOCH) % SLOT


def step_number(value) -> int | None:
    """A step number read out of an event's JSON: None for what is not one."""
    text = str(value) if value is not None else ""
    return int(text) if text.isdigit() and len(text) <= 4 else None


def variant_of(value) -> str:
    return value if value in ("A", "B") else ""


@dataclass
class LeadState:
    """What the rollups know of one lead in one campaign: its firsts, and its first send and reply per step."""

    firsts: dict = field(default_factory=dict)
    account_id: int | None = None
    steps: dict = field(default_factory=dict)  # ("leads" | "replied", step, variant) -> first time
    changed: set = field(default_factory=set)


@dataclass
class Deltas:
    funnel: Counter = field(default_factory=Counter)  # (campaign, slot, counter) -> n
    steps: Counter = field(default_factory=Counter)  # (campaign, slot, step, variant, counter) -> n


def _first(seen: dict, key, when: dt.datetime, moved: Callable[[dt.datetime | None], None]) -> bool:
    old = seen.get(key)
    if old is not None and old <= when:
        return False
    seen[key] = when
    moved(old)
    return True


def apply(state: LeadState, deltas: Deltas, campaign_id: int, event) -> None:
    """What one funnel event (type, occurred_at, account_id, step, variant) changes, in any order of arrival."""
    when, kind = event.occurred_at, event.type
    deltas.funnel[campaign_id, slot_of(when), EVENT_COUNTER[kind]] += 1

    def move(counter):
        def moved(old):
            if old is not None:
                deltas.funnel[campaign_id, slot_of(old), counter] -= 1
            deltas.funnel[campaign_id, slot_of(when), counter] += 1

        return moved if counter else lambda old: None

    for name, (types, counter) in FIRSTS.items():
        if kind in types and _first(state.firsts, name, when, move(counter)):
            state.changed.add(name)
            if name == "outreach_at":
                state.account_id = event.account_id
                state.changed.add("account_id")
    if event.step is None or (kind not in OUTREACH_TYPES and kind != E.REPLY_RECEIVED):
        return
    total, first = ("sent", "leads") if kind in OUTREACH_TYPES else ("replies", "replied")
    node = (campaign_id, event.step, event.variant)
    deltas.steps[campaign_id, slot_of(when), event.step, event.variant, total] += 1

    def step_moved(old):
        if old is not None:
            deltas.steps[campaign_id, slot_of(old), event.step, event.variant, first] -= 1
        deltas.steps[campaign_id, slot_of(when), event.step, event.variant, first] += 1

    _first(state.steps, (first, *node[1:]), when, step_moved)


def _write(deltas: Deltas, *, compacted: bool = False) -> None:
    """Insert the non-zero deltas as rows, one per key."""
    for model, counts in ((FunnelActivity, deltas.funnel), (StepActivity, deltas.steps)):
        rows: dict[tuple, dict] = defaultdict(dict)
        for (*key, counter), n in counts.items():
            if n:
                rows[tuple(key)][counter] = n
        _insert(model, rows.items(), compacted=compacted)


def _insert(model, rows: Iterable[tuple[tuple, dict]], *, compacted: bool) -> None:
    model.objects.bulk_create(
        [model(**dict(zip(model.KEY, key, strict=True)), **counters, compacted=compacted) for key, counters in rows],
        batch_size=2000,
    )


def record_event(event: Event, insert: Callable[[], None]) -> None:
    """Save `event` (by calling `insert`) with its step columns and, in one transaction, the rollups it changes."""
    if event.step is None:
        event.step = step_number((event.data or {}).get("step"))
    if not event.variant:
        event.variant = variant_of((event.data or {}).get("variant"))
    if event.type not in FUNNEL_EVENT_TYPES or event.lead_id is None or event.campaign_id is None:
        insert()
        return
    with transaction.atomic():
        _record_funnel_event(event, insert)


def _record_funnel_event(event: Event, insert: Callable[[], None]) -> None:
    if connection.features.has_select_for_update:
        list(Lead.objects.select_for_update().filter(pk=event.lead_id).values_list("pk"))
    lead_events = Event.objects.filter(lead_id=event.lead_id, campaign_id=event.campaign_id)
    if event.type == E.REPLY_RECEIVED and event.step is None:
        answered = (
            lead_events.filter(type__in=OUTREACH_TYPES, occurred_at__lte=event.occurred_at)
            .order_by("-occurred_at", "-id")
            .values_list("step", "variant")
            .first()
        )
        if answered:
            event.step, event.variant = answered
    insert()
    funnel = LeadFunnel.objects.filter(lead_id=event.lead_id, campaign_id=event.campaign_id).first()
    state = LeadState(
        firsts={name: getattr(funnel, name) for name in FIRSTS} if funnel else {},
        account_id=funnel.account_id if funnel else None,
    )
    if event.step is not None:
        first = "leads" if event.type in OUTREACH_TYPES else "replied"
        same_kind = OUTREACH_TYPES if event.type in OUTREACH_TYPES else {E.REPLY_RECEIVED}
        earlier = (
            lead_events.filter(type__in=same_kind, step=event.step, variant=event.variant)
            .exclude(pk=event.pk)
            .aggregate(first=Min("occurred_at"))["first"]
        )
        if earlier is not None:
            state.steps[first, event.step, event.variant] = earlier
    deltas = Deltas()
    apply(state, deltas, event.campaign_id, event)
    if funnel is None:
        LeadFunnel.objects.create(
            lead_id=event.lead_id, campaign_id=event.campaign_id, account_id=state.account_id, **state.firsts
        )
    elif state.changed:
        for name in state.changed:
            setattr(funnel, name, state.firsts.get(name) if name != "account_id" else state.account_id)
        funnel.save(update_fields=sorted(state.changed))
    _write(deltas)


def compact(batch: int = 500) -> int:
    """Fold the delta rows into one row per key; returns how many rows were folded. Safe beside writers and
    beside another compaction: each row's counts move exactly once (only the transaction that deletes a row sums
    it), and a delta committed meanwhile waits for the next round."""
    folded = 0
    for model in (FunnelActivity, StepActivity):
        while True:
            keys = list(model.objects.filter(compacted=False).values_list(*model.KEY).distinct()[:batch])
            if keys:
                folded += _fold(model, keys)
            if len(keys) < batch:
                break
    return folded


def _fold(model, keys: list[tuple]) -> int:
    match = Q()
    for key in keys:
        match |= Q(**dict(zip(model.KEY, key, strict=True)))
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in (*model.KEY, *model.COUNTERS))
    sums: dict[tuple, Counter] = defaultdict(Counter)
    with transaction.atomic():
        ids = list(model.objects.filter(match).values_list("pk", flat=True))
        with connection.cursor() as cursor:
            for start in range(0, len(ids), 900):
                chunk = ids[start : start + 900]
                cursor.execute(
                    f"DELETE FROM {quote(model._meta.db_table)} WHERE id IN ({', '.join(['%s'] * len(chunk))})"  # noqa: S608
                    f" RETURNING {columns}",
                    chunk,
                )
                for row in cursor.fetchall():
                    key = (row[0], _aware(row[1]), *row[2 : len(model.KEY)])
                    sums[key].update(dict(zip(model.COUNTERS, row[len(model.KEY) :], strict=True)))
        _insert(model, ((key, counts) for key, counts in sums.items() if any(counts.values())), compacted=True)
    return len(ids)


def _aware(value) -> dt.datetime:
    """A datetime read by a raw cursor: SQLite gives text, PostgreSQL an aware datetime."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def rebuild(campaign_ids: Iterable[int] | None = None) -> dict:
    """Recount the rollups of these campaigns (all, by default) from their events. Each campaign in its own
    transaction, with the campaign row locked: events of that campaign wait (their foreign key) until it is done."""
    from campaigns.models import Campaign

    if campaign_ids is None:
        campaign_ids = Campaign.objects.order_by("pk").values_list("pk", flat=True)
    totals = Counter()
    for campaign_id in list(campaign_ids):
        with transaction.atomic():
            if not Campaign.objects.select_for_update().filter(pk=campaign_id).exists():
                continue
            LeadFunnel.objects.filter(campaign_id=campaign_id).delete()
            FunnelActivity.objects.filter(campaign_id=campaign_id).delete()
            StepActivity.objects.filter(campaign_id=campaign_id).delete()
            totals.update(_recount(campaign_id))
    return dict(totals)


def _recount(campaign_id: int) -> Counter:
    events = (
        Event.objects.filter(campaign_id=campaign_id, lead__isnull=False, type__in=FUNNEL_EVENT_TYPES)
        .order_by("lead_id", "occurred_at", "id")
        .values_list("lead_id", "type", "occurred_at", "account_id", "step", "variant")
    )
    deltas, funnels, done = Deltas(), [], Counter()
    lead_id, state = None, LeadState()

    def close():
        if lead_id is not None:
            funnels.append(
                LeadFunnel(lead_id=lead_id, campaign_id=campaign_id, account_id=state.account_id, **state.firsts)
            )

    for row in events.iterator(chunk_size=20_000):
        if row[0] != lead_id:
            close()
            lead_id, state = row[0], LeadState()
            if len(funnels) >= 5000:
                LeadFunnel.objects.bulk_create(funnels, batch_size=5000)
                done["leads"] += len(funnels)
                funnels = []
        apply(state, deltas, campaign_id, _Row(*row[1:]))
        done["events"] += 1
    close()
    LeadFunnel.objects.bulk_create(funnels, batch_size=5000)
    done["leads"] += len(funnels)
    _write(deltas, compacted=True)
    return done


@dataclass(frozen=True)
class _Row:
    type: str
    occurred_at: dt.datetime
    account_id: int | None
    step: int | None
    variant: str
