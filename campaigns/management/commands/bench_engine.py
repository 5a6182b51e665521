"""Benchmark: plan tick and send tick with N leads and M sender accounts (meant for PostgreSQL).

Builds its own data under a client named after N and M (reused when it is already there): branching
campaigns (invite; if accepted within 14 working days: message, wait, message; else: withdraw, follow,
InMail) where half of the leads wait at the acceptance condition. Makes --due leads due, then times one
plan tick, the condition sweep (--due leads whose window just ended take the no path) and one send tick,
and counts their queries. Sends go through dry-run campaigns, so no provider is called: the figures are
the engine's own cost.
"""

import datetime as dt
import statistics
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Mod
from django.utils import timezone

from campaigns.engine.planner import plan_due
from campaigns.engine.sender import accounts_with_work, send_for_account
from campaigns.models import Campaign, OutboundAction, Step
from campaigns.sequence import sequence_apply_shape
from integrations.models import LinkedInAccount, RateUsage
from leads.models import Lead
from outreach.bench import FiguresMixin, counting_queries
from outreach.models import Client

SENDERS_PER_CAMPAIGN = 10
INSERT_BATCH = 5000


class Command(FiguresMixin, BaseCommand):
    help = "Time the plan and send ticks on generated data: manage.py bench_engine --leads 1000000 --accounts 1000"

    def add_arguments(self, parser):
        parser.add_argument("--leads", type=int, default=1_000_000)
        parser.add_argument("--accounts", type=int, default=1_000)
        parser.add_argument("--due", type=int, default=1_000, help="Leads due at this tick (the rest wait).")
        parser.add_argument("--rebuild", action="store_true")

    def handle(self, *args, leads, accounts, due, rebuild, **options):
        if leads < 1 or accounts < 1 or not 0 < due <= leads:
            raise CommandError("--leads and --accounts must be positive and --due between 1 and --leads.")
        if connection.vendor != "postgresql":
            self.stderr.write("Warning: the targets are for PostgreSQL; this database is " + connection.vendor + ".")
        client = self._build(leads, accounts, rebuild)
        now = timezone.now().replace(hour=10)  # inside the campaigns' all-day working hours
        self._reset(client, due, now)

        with counting_queries() as plan_queries:
            started = time.perf_counter()
            result = plan_due(now=now, batch_size=500, max_batches=max(1, due // 500 + 1))
            plan_seconds = time.perf_counter() - started

        # The condition sweep: leads whose acceptance window ended, read through the same index as due leads.
        swept = self._end_windows(client, due, now)
        with counting_queries() as sweep_queries:
            started = time.perf_counter()
            sweep = plan_due(now=now, batch_size=500, max_batches=max(1, due // 500 + 1))
            sweep_seconds = time.perf_counter() - started
        withdrawals = OutboundAction.objects.filter(account__client=client, action="withdraw").count()

        with counting_queries() as dispatch_queries:
            started = time.perf_counter()
            busy = accounts_with_work(now)
            dispatch_seconds = time.perf_counter() - started

        per_account, per_account_queries, sent = [], [], 0
        for account_id in busy:
            with counting_queries() as queries:
                started = time.perf_counter()
                outcome = send_for_account(account_id=account_id, now=now).outcome
                per_account.append(time.perf_counter() - started)
            per_account_queries.append(len(queries))
            sent += outcome == "sent"

        self.stdout.write(f"database {connection.vendor}: {leads:,} leads, {accounts:,} accounts, {due:,} due")
        self.figure(
            f"plan tick, {leads:,} leads, {accounts:,} accounts, {due:,} due",
            "< 1000 ms",
            f"{plan_seconds * 1000:.0f} ms, {len(plan_queries)} queries",
            plan_seconds,
        )
        self.figure(
            f"condition sweep, {swept:,} windows ended ({leads // 2:,} leads waiting on conditions)",
            "< 1000 ms",
            f"{sweep_seconds * 1000:.0f} ms, {len(sweep_queries)} queries, {withdrawals:,} withdrawals queued",
            sweep_seconds,
        )
        self.figure(
            "send tick: accounts with work",
            "< 1000 ms",
            f"{dispatch_seconds * 1000:.0f} ms, {len(dispatch_queries)} queries",
            dispatch_seconds,
        )
        self.stdout.write(
            f"plan tick:   {plan_seconds * 1000:8.1f} ms  {len(plan_queries):4d} queries  ({result})  target < 1000 ms"
        )
        self.stdout.write(
            f"sweep tick:  {sweep_seconds * 1000:8.1f} ms  {len(sweep_queries):4d} queries  ({sweep})  target < 1000 ms"
        )
        self.stdout.write(
            f"send tick:   {dispatch_seconds * 1000:8.1f} ms  {len(dispatch_queries):4d} queries to find {len(busy):,} accounts with work"
        )
        if per_account:
            p95 = statistics.quantiles(per_account, n=20)[-1] if len(per_account) > 1 else per_account[0]
            self.stdout.write(
                f"per account: {statistics.median(per_account) * 1000:8.1f} ms median, {p95 * 1000:.1f} ms p95, "
                f"{max(per_account_queries)} queries at most; {sent:,} sent; all {len(busy):,} accounts in "
                f"{sum(per_account):.2f} s on one process"
            )

    def _build(self, leads: int, accounts: int, rebuild: bool) -> Client:
        slug = f"bench-engine-graph-{leads}-{accounts}"
        client = Client.objects.filter(slug=slug).first()
        if client and not rebuild and Lead.objects.filter(campaign__client=client).count() == leads:
            self.stdout.write(f"Reusing the data of {slug}.")
            return client
        if client:
            self._drop(client)
        started = time.perf_counter()
        with transaction.atomic():
            client = Client.objects.create(slug=slug, name=f"Benchmark: engine {leads:,}/{accounts:,}", timezone="UTC")
            senders = LinkedInAccount.objects.bulk_create(
                LinkedInAccount(
                    client=client,
                    name=f"Bench sender {i}",
                    unipile_account_id=f"{slug}-acc-{i}",
                    status="OK",
                    min_seconds_between_actions=10,
                    daily_invite_limit=100,
                    weekly_invite_limit=500,
                )
                for i in range(accounts)
            )
            campaigns = []
            for start in range(0, accounts, SENDERS_PER_CAMPAIGN):
                campaign = Campaign.objects.create(
                    client=client,
                    name=f"Bench campaign {start // SENDERS_PER_CAMPAIGN}",
                    status="active",
                    dry_run=True,
                    timezone="UTC",
                    work_start=dt.time(0, 0),
                    work_end=dt.time(23, 59),
                    working_days=list(range(7)),
                )
                campaign.senders.set(senders[start : start + SENDERS_PER_CAMPAIGN])
                sequence_apply_shape(campaign=campaign, shape="branching")
                campaigns.append(campaign)
        far = timezone.now() + dt.timedelta(days=3650)
        conditions = {s.campaign_id: s for s in Step.objects.filter(campaign__in=campaigns, action="condition")}
        batch = []
        for i in range(leads):
            campaign = campaigns[i % len(campaigns)]
            waiting = i % 2 == 1  # half of the leads wait at the acceptance condition
            batch.append(
                Lead(
                    campaign=campaign,
                    first_name=f"P{i}",
                    public_identifier=f"bench-{i}",
                    next_action_at=far,
                    status="invited" if waiting else "pending",
                    step=conditions[campaign.pk] if waiting else None,
                    current_step=1 if waiting else 0,
                    condition_until=far if waiting else None,
                )
            )
            if len(batch) == INSERT_BATCH:
                Lead.objects.bulk_create(batch)
                batch = []
        Lead.objects.bulk_create(batch)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("ANALYZE leads_lead; ANALYZE campaigns_outboundaction;")
        self.stdout.write(f"Built {slug} in {time.perf_counter() - started:.0f} s.")
        return client

    def _drop(self, client: Client) -> None:
        OutboundAction.objects.filter(account__client=client).delete()
        Lead.objects.filter(campaign__client=client).delete()
        Campaign.objects.filter(client=client).delete()
        RateUsage.objects.filter(account__client=client).delete()
        LinkedInAccount.objects.filter(client=client).delete()
        client.delete()

    def _reset(self, client: Client, due: int, now: dt.datetime) -> None:
        """Back to a known state: no queue, no usage, half of the leads pending before the first step and half
        waiting at the condition (by id parity), `due` pending leads due now."""
        far = now + dt.timedelta(days=3650)
        OutboundAction.objects.filter(account__client=client).delete()
        RateUsage.objects.filter(account__client=client).delete()
        LinkedInAccount.objects.filter(client=client).update(next_action_after=None, last_action_at=None, paused=False)
        leads = Lead.objects.filter(campaign__client=client).annotate(odd=Mod(F("id"), 2))
        leads.filter(odd=0).exclude(status="pending", next_action_at=far, step__isnull=True).update(
            status="pending", next_action_at=far, current_step=0, sender=None, invited_at=None, step=None,
            condition_until=None,
        )  # fmt: skip
        conditions = dict(
            Step.objects.filter(campaign__client=client, action="condition").values_list("campaign_id", "pk")
        )
        for campaign_id, step_id in conditions.items():
            leads.filter(odd=1, campaign_id=campaign_id).exclude(
                status="invited", next_action_at=far, step_id=step_id, condition_until=far
            ).update(status="invited", next_action_at=far, condition_until=far, step_id=step_id, current_step=1)
        ids = list(leads.filter(odd=0).order_by("id").values_list("pk", flat=True)[:due])
        Lead.objects.filter(pk__in=ids).update(next_action_at=now - dt.timedelta(minutes=1))

    def _end_windows(self, client: Client, due: int, now: dt.datetime) -> int:
        """`due` leads waiting at the condition see their window end now."""
        leads = Lead.objects.filter(campaign__client=client).annotate(odd=Mod(F("id"), 2))
        ids = list(leads.filter(odd=1, status="invited").order_by("id").values_list("pk", flat=True)[:due])
        ended = now - dt.timedelta(minutes=1)
        return Lead.objects.filter(pk__in=ids).update(next_action_at=ended, condition_until=ended)
