"""The reports' rollups (leads.funnel): kept with every event in its transaction, in any order of arrival, equal to
a recount from the log, folded without losing a count; the step columns of events; the upgrade and the commands."""

import datetime as dt
import importlib
import random
import threading
from collections import Counter
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from leads.apps import count_missing_funnels
from leads.funnel import compact, rebuild, slot_of
from leads.models import FUNNEL_EVENT_TYPES, Event, FunnelActivity, LeadFunnel, StepActivity
from reports import selectors
from reports.selectors import Period
from tests import factories

pytestmark = pytest.mark.django_db
UTC = dt.UTC
T0 = dt.datetime(2026, 11, 9, 8, 0, tzinfo=UTC)


def snapshot():
    """Everything the rollups say: each funnel row, and each key's summed counts (however many rows hold them)."""
    funnels = {
        (f.campaign_id, f.lead_id): (
            f.account_id,
            f.invited_at,
            f.accepted_at,
            f.outreach_at,
            f.messaged_at,
            f.replied_at,
        )
        for f in LeadFunnel.objects.all()
    }
    counts = {}
    for model in (FunnelActivity, StepActivity):
        summed = Counter()
        for row in model.objects.all():
            key = tuple(getattr(row, name) for name in model.KEY)
            for name in model.COUNTERS:
                summed[(*key, name)] += getattr(row, name)
        # Zero sums dropped (a moved count leaves -1 and +1 behind); a negative one would show.
        counts[model.__name__] = {key: n for key, n in summed.items() if n}
    return funnels, counts


def random_log(seed: int, campaigns, accounts, leads_per_campaign=6, events=120, shuffled=True):
    """Events of every funnel type, with steps, variants and staff messages, recorded in a shuffled order (or in
    the order of their times)."""
    rng = random.Random(seed)
    leads = [factories.LeadFactory(campaign=c) for c in campaigns for _ in range(leads_per_campaign)]
    kinds = ["invite_sent", "invite_accepted", "message_sent", "inmail_sent", "reply_received", "profile_visited"]
    planned = []
    for n in range(events):
        kind = rng.choice(kinds)
        data = {}
        if kind in ("invite_sent", "message_sent", "inmail_sent", "profile_visited") and rng.random() < 0.85:
            data = {"step": rng.randint(1, 4), "variant": rng.choice(["A", "B", ""])}
        when = T0 + dt.timedelta(minutes=rng.randint(0, 60 * 24 * 10))
        planned.append((rng.choice(leads), rng.choice([*accounts, None]), kind, when, data, n))
    if shuffled:
        rng.shuffle(planned)  # late arrivals: an earlier first often comes after a later one
    else:
        planned.sort(key=lambda event: (event[3], event[5]))
    for lead, account, kind, when, data, n in planned:
        external = f"r{n}" if kind == "reply_received" else ""
        Event.objects.create(lead=lead, account=account, type=kind, occurred_at=when, data=data, external_id=external)
    return leads


@pytest.fixture
def world():
    client = factories.ClientFactory(timezone="Europe/Paris")
    accounts = [factories.AccountFactory(client=client) for _ in range(2)]
    campaigns = [factories.CampaignFactory(client=client) for _ in range(2)]
    return SimpleNamespace(client=client, accounts=accounts, campaigns=campaigns)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_what_each_event_keeps_equals_a_recount_and_survives_folding(world, seed):
    random_log(seed, world.campaigns, world.accounts)
    kept = snapshot()
    assert kept[0] and kept[1]["FunnelActivity"] and kept[1]["StepActivity"]
    assert FunnelActivity.objects.filter(compacted=False).exists()
    folded = compact()
    assert folded and not FunnelActivity.objects.filter(compacted=False).exists()
    assert not StepActivity.objects.filter(compacted=False).exists()
    assert snapshot() == kept
    assert compact() == 0  # nothing left to fold
    rebuild()
    assert snapshot() == kept


def test_a_late_event_with_an_earlier_time_moves_the_lead_to_its_day(world):
    campaign, account = world.campaigns[0], world.accounts[0]
    lead = factories.LeadFactory(campaign=campaign)
    tuesday = dt.datetime(2026, 11, 10, 9, tzinfo=UTC)
    monday = dt.datetime(2026, 11, 9, 9, tzinfo=UTC)
    Event.objects.create(lead=lead, account=account, type="invite_sent", occurred_at=tuesday, data={"step": 1})
    Event.objects.create(lead=lead, account=account, type="invite_sent", occurred_at=monday, data={"step": 1})
    paris = ZoneInfo("Europe/Paris")

    def day(d):
        return selectors.summary([campaign.pk], Period(d, d, paris))

    assert (day(monday.date()).invited, day(monday.date()).invitations_sent) == (1, 1)
    assert (day(tuesday.date()).invited, day(tuesday.date()).invitations_sent) == (0, 1)
    funnel = LeadFunnel.objects.get(lead=lead)
    assert funnel.invited_at == monday and funnel.outreach_at == monday and funnel.account_id == account.pk
    steps = {
        row["variant"]: row
        for row in selectors.step_variants([campaign.pk], Period(monday.date(), monday.date(), paris))
    }
    assert (steps[""]["sent"], steps[""]["leads"]) == (1, 1)
    steps = selectors.step_variants([campaign.pk], Period(tuesday.date(), tuesday.date(), paris))
    assert [(row["sent"], row["leads"]) for row in steps] == [(1, 0)]


def test_a_reply_carries_the_step_it_answers_and_a_staff_message_answers_none(world):
    campaign, account = world.campaigns[0], world.accounts[0]
    lead = factories.LeadFactory(campaign=campaign)
    Event.objects.create(
        lead=lead, account=account, type="invite_sent", occurred_at=T0, data={"step": 1, "variant": "B"}
    )
    Event.objects.create(lead=lead, account=account, type="message_sent", occurred_at=T0 + dt.timedelta(days=2),
                         data={"step": 3, "variant": "A"})  # fmt: skip
    early = Event.objects.create(
        lead=lead, type="reply_received", occurred_at=T0 + dt.timedelta(days=1), external_id="e"
    )
    late = Event.objects.create(
        lead=lead, type="reply_received", occurred_at=T0 + dt.timedelta(days=3), external_id="l"
    )
    assert (early.step, early.variant) == (1, "B") and (late.step, late.variant) == (3, "A")
    Event.objects.create(lead=lead, type="message_sent", occurred_at=T0 + dt.timedelta(days=4), data={})
    staff = Event.objects.create(
        lead=lead, type="reply_received", occurred_at=T0 + dt.timedelta(days=5), external_id="s"
    )
    assert (staff.step, staff.variant) == (None, "")
    odd = Event.objects.create(lead=lead, type="invite_sent", occurred_at=T0, data={"step": "x", "variant": 7})
    assert (odd.step, odd.variant) == (None, "")


def test_an_event_refused_by_the_database_leaves_the_rollups_as_they_were(world):
    lead = factories.LeadFactory(campaign=world.campaigns[0])
    Event.objects.create(lead=lead, type="reply_received", occurred_at=T0, external_id="m-1")
    before = snapshot()
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(lead=lead, type="reply_received", occurred_at=T0 - dt.timedelta(days=1), external_id="m-1")
    assert snapshot() == before
    assert LeadFunnel.objects.get(lead=lead).replied_at == T0


def test_events_outside_the_funnel_write_no_rollup(world):
    lead = factories.LeadFactory(campaign=world.campaigns[0])
    Event.objects.create(lead=lead, type="profile_visited", occurred_at=T0, data={"step": 2})
    Event.objects.create(lead=None, type="invite_sent", occurred_at=T0)
    assert not LeadFunnel.objects.exists() and not FunnelActivity.objects.exists()
    assert Event.objects.get(type="profile_visited").step == 2


def test_slots_are_quarter_hours_so_every_timezones_days_are_exact(world):
    campaign = world.campaigns[0]
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+05:30: midnight is 18:30 UTC
    lead = factories.LeadFactory(campaign=campaign)
    before_midnight = dt.datetime(2026, 11, 9, 18, 29, tzinfo=UTC)
    after_midnight = dt.datetime(2026, 11, 9, 18, 30, tzinfo=UTC)
    Event.objects.create(lead=lead, type="message_sent", occurred_at=before_midnight, data={})
    Event.objects.create(lead=lead, type="message_sent", occurred_at=after_midnight, data={})
    assert slot_of(before_midnight) == dt.datetime(2026, 11, 9, 18, 15, tzinfo=UTC)
    series = selectors.daily_series([campaign.pk], Period(dt.date(2026, 11, 9), dt.date(2026, 11, 10), kolkata))
    assert [row["messages"] for row in series] == [1, 1]


def test_rebuild_command_recounts_a_client_or_campaigns_and_names_what_is_missing(world):
    random_log(7, world.campaigns, world.accounts, events=40)
    kept = snapshot()
    LeadFunnel.objects.all().delete()
    FunnelActivity.objects.all().delete()
    StepActivity.objects.all().delete()
    call_command("rebuild_funnels", client=world.client.slug, stdout=(out := _Out()))
    assert "Recounted 2 campaign(s)" in out.text and snapshot() == kept
    call_command("rebuild_funnels", campaign=[world.campaigns[0].pk], stdout=(out := _Out()))
    assert "Recounted 1 campaign(s)" in out.text and snapshot() == kept
    with pytest.raises(CommandError, match="--client: no client with the slug 'nope'"):
        call_command("rebuild_funnels", client="nope")
    with pytest.raises(CommandError, match="--campaign: no campaign with the id"):
        call_command("rebuild_funnels", campaign=[world.campaigns[0].pk, 987654])
    assert snapshot() == kept


def test_compact_command_says_what_it_folded(world):
    random_log(8, world.campaigns, world.accounts, events=20)
    call_command("compact_funnels", once=True, stdout=(out := _Out()))
    assert "count row(s) folded" in out.text and not out.text.startswith("0 ")


def test_an_upgrade_fills_the_step_columns_and_counts_the_rollups(world):
    # In time order: a reply's step is the one sent before it when it is recorded, as the upgrade finds it.
    random_log(9, world.campaigns, world.accounts, events=60, shuffled=False)
    kept = snapshot()
    funnel = Event.objects.filter(type__in=FUNNEL_EVENT_TYPES).order_by("pk")
    columns = list(funnel.values_list("pk", "step", "variant"))
    assert any(step for _, step, _ in columns)
    # As an older version left them: no columns, no rollups.
    Event.objects.update(step=None, variant="")
    for model in (LeadFunnel, FunnelActivity, StepActivity):
        model.objects.all().delete()
    migration = importlib.import_module("leads.migrations.0010_funnel_rollups")
    if connection.vendor == "postgresql":
        with connection.schema_editor(atomic=False) as editor:
            migration.backfill_steps(apps, editor)
    else:
        migration.backfill_steps(apps, SimpleNamespace(connection=connection))
    assert list(funnel.values_list("pk", "step", "variant")) == columns
    count_missing_funnels(sender=None, verbosity=0)
    assert snapshot() == kept
    count_missing_funnels(sender=None, verbosity=0)  # rollups present: left alone
    assert snapshot() == kept


def test_deleting_a_campaign_takes_its_rollups(world):
    random_log(10, world.campaigns[:1], world.accounts, events=20)
    world.campaigns[0].delete()
    assert not LeadFunnel.objects.exists() and not FunnelActivity.objects.exists() and not StepActivity.objects.exists()


class _Out:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL for concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_concurrent_events_of_one_campaign_and_one_lead_count_exactly_once_each():
    """Eight writers record sends, acceptances and replies for the same leads of one campaign at once (the engine,
    the webhooks and the poll do), while a ninth folds the deltas: no deadlock, no lost or doubled count."""
    campaign = factories.CampaignFactory()
    leads = [factories.LeadFactory(campaign=campaign) for _ in range(4)]
    barrier = threading.Barrier(9)
    errors = []

    def writer(n):
        try:
            barrier.wait()
            for i in range(12):
                lead = leads[(n + i) % len(leads)]
                kind = ["invite_sent", "invite_accepted", "message_sent", "reply_received"][(n + i) % 4]
                with transaction.atomic():
                    Event.objects.create(
                        lead=lead,
                        type=kind,
                        occurred_at=T0 + dt.timedelta(minutes=(n * 37 + i * 11) % 300),
                        data={"step": 1 + i % 3, "variant": "AB"[n % 2]} if kind != "reply_received" else {},
                        external_id=f"{n}-{i}" if kind == "reply_received" else "",
                    )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    def folder():
        try:
            barrier.wait()
            for _ in range(10):
                compact()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)] + [threading.Thread(target=folder)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert Event.objects.filter(campaign=campaign).count() == 8 * 12
    kept = snapshot()
    rebuild([campaign.pk])
    assert snapshot() == kept
    totals = selectors.summary([campaign.pk], Period(dt.date(2026, 11, 1), dt.date(2026, 11, 30), ZoneInfo("UTC")))
    assert totals.invitations_sent + totals.messages_sent + totals.replies == 8 * 12 - 8 * 3  # 3 of 12 acceptances
