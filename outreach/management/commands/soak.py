"""Soak: the real system for N minutes against the sandbox provider injecting faults, then the proof.

Runs on PostgreSQL and Redis: a gunicorn web server (webhook intake and the sandbox's own API), N celery
worker processes and beat, with the sandbox answering 429, 500 (before and after acting), timeouts and
cannot_resend_yet at the given rate, delivering webhooks twice and out of order, and a worker killed
with SIGKILL every --kill-every seconds (restarted at once). The periodic jobs run every few seconds so
minutes of soak are days of traffic. At the end everything stops, the reconciliation jobs run once
(as they would on their own schedule), and the checks print:

- sends per account per day against the caps, counted on the sandbox's side: zero violations;
- actions that reached a person twice (same invitation, same step text in a chat): zero;
- replies the sandbox's people wrote that Outreach does not have: zero;
- webhook deliveries the sandbox made that Outreach did not store: zero;
- leads stuck without a reason (due long ago, nothing queued, no error): zero;
- outbound webhook events (to a local receiver that answers 500 to 30 % of requests and checks every
  signature) that never got through, or whose lead's events arrived out of order: zero.
"""

import datetime as dt
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count
from django.utils import timezone

SOAK_SLUG = "soak"
SOAK_COOLDOWN_MINUTES = (0.5, 1, 2)
STATUS_FLIP_EVERY = 45  # seconds
FAST_INTERVALS = {
    "campaigns: plan queue": 5,
    "campaigns: send queue": 3,
    "sandbox: simulate people and deliver webhooks": 3,
    "integrations: process pending webhooks": 5,
    "inbox: poll replies": 45,
    "campaigns: sync relations": 60,
    "campaigns: sync invitations": 90,
    "integrations: send outbound webhooks": 2,
}
RECEIVER_FAIL_RATE = 0.3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Command(BaseCommand):
    help = "Run the whole system under injected faults for N minutes, then check caps, duplicates and losses."

    def add_arguments(self, parser):
        parser.add_argument("--minutes", type=float, default=10)
        parser.add_argument("--workers", type=int, default=4)
        parser.add_argument("--accounts", type=int, default=10)
        parser.add_argument("--leads", type=int, default=600)
        parser.add_argument("--fault-rate", type=float, default=0.05, help="Share of calls per injected fault kind.")
        parser.add_argument("--kill-every", type=float, default=120, help="Seconds between two killed workers.")
        parser.add_argument("--check-only", action="store_true", help="Only run the checks on the last soak's data.")

    def handle(self, *args, minutes, workers, accounts, leads, fault_rate, kill_every, check_only=False, **options):
        if check_only:
            from outreach.models import Client

            client = Client.objects.filter(slug=SOAK_SLUG).first()
            if client is None:
                raise CommandError("No soak run in this database.")
            problems = self._check(client.created_at)
            if problems:
                raise CommandError(f"The soak found {problems} problem(s); see above.")
            return
        if connection.vendor != "postgresql" or not settings.REDIS_URL:
            raise CommandError("The soak runs on PostgreSQL and Redis: set DATABASE_URL=postgres://… and REDIS_URL.")
        if not settings.UNIPILE_SANDBOX or not settings.DEBUG:
            raise CommandError("The soak drives the sandbox provider: run it with DEBUG=true UNIPILE_SANDBOX=true.")
        if minutes <= 0 or workers < 1 or accounts < 1 or leads < 1 or not 0 <= fault_rate < 0.5:
            raise CommandError("--minutes, --workers, --accounts, --leads must be positive; --fault-rate in [0, 0.5).")
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "PUBLIC_BASE_URL": base,
            "UNIPILE_SANDBOX": "true",
            "DEBUG": "true",
            "UNIPILE_WEBHOOK_SECRET": settings.UNIPILE_WEBHOOK_SECRET or "soak-secret",
            "SEND_UNKNOWN_GRACE_SECONDS": "5",
            "SEND_CLAIM_STALE_SECONDS": "60",
            # The ladder shortened to the soak's 10 minutes; the check holds every send to it.
            "RATE_LIMIT_COOLDOWN_MINUTES": ",".join(str(m) for m in SOAK_COOLDOWN_MINUTES),
            # Outbound webhooks to the soak's own receiver on loopback, retried within seconds, not days.
            "OUTBOUND_WEBHOOKS_ALLOW_INSECURE": "true",
            "OUTBOUND_WEBHOOK_RETRY_MINUTES": ",".join(["0.05"] * 20),
            "OUTBOUND_WEBHOOK_DISABLE_AFTER_FAILURES": "100000",
        }
        os.environ.update({k: env[k] for k in ("PUBLIC_BASE_URL", "UNIPILE_WEBHOOK_SECRET")})
        settings.PUBLIC_BASE_URL = base
        settings.UNIPILE_WEBHOOK_SECRET = env["UNIPILE_WEBHOOK_SECRET"]
        settings.OUTBOUND_WEBHOOKS_ALLOW_INSECURE = True
        call_command("migrate", verbosity=0)
        self._setup(accounts, leads, fault_rate)
        started = timezone.now()
        processes = self._start(env, port, workers)
        try:
            self._run(processes, env, minutes, kill_every)
        finally:
            self._stop(processes)
        self._settle()
        problems = self._check(started) + self._check_outbound()
        if problems:
            raise CommandError(f"The soak found {problems} problem(s); see above.")
        self.stdout.write(
            self.style.SUCCESS("Soak passed: no cap violation, no duplicate, nothing lost, no stuck lead.")
        )

    # --- set-up ---------------------------------------------------------------------------------

    def _setup(self, accounts: int, leads: int, fault_rate: float) -> None:
        from django_celery_beat.models import IntervalSchedule, PeriodicTask

        from campaigns.models import Campaign
        from campaigns.services import campaign_set_steps
        from integrations.models import LinkedInAccount
        from integrations.sandbox.models import SandboxAccount, SandboxSettings, SandboxWebhook
        from leads.models import Lead
        from outreach.models import Client

        if Client.objects.filter(slug=SOAK_SLUG).exists():
            raise CommandError("This database already holds a soak run: give the soak a database of its own.")
        SandboxSettings.objects.update_or_create(
            pk=1,
            defaults={
                "seed": 11,
                "speed_factor": 120.0,
                "accept_probability": 0.7,
                "accept_delay_min_minutes": 20,
                "accept_delay_max_minutes": 240,
                "reply_probability": 0.5,
                "reply_delay_min_minutes": 10,
                "reply_delay_max_minutes": 120,
                "rate_429": fault_rate,
                "rate_limit_burst_seconds": 20.0,
                "rate_500": fault_rate,
                "rate_500_after_effect": fault_rate,
                "rate_timeout": fault_rate / 2,
                "timeout_seconds": 35.0,
                "rate_cannot_resend_yet": fault_rate / 2,
                "rate_invalid_recipient": 0.0,
                "rate_duplicate_webhook": 0.2,
                "webhook_jitter_seconds": 8.0,
                "daily_invite_limit": 1000,
                "weekly_invite_limit": 5000,
                "daily_message_limit": 1000,
                "daily_visit_limit": 1000,
            },
        )
        client = Client.objects.create(name="Soak", slug=SOAK_SLUG, timezone="UTC")
        from bench.receiver import Receiver
        from integrations.outbound import endpoint_create

        endpoint = endpoint_create(client=client, url="http://127.0.0.1:1/placeholder", events=[])
        self.receiver = Receiver(secret=endpoint.secret, fail_rate=RECEIVER_FAIL_RATE).start()
        type(endpoint).objects.filter(pk=endpoint.pk).update(url=self.receiver.url)
        senders = []
        for n in range(accounts):
            provider_id = f"ACoAASoakSender{n:04d}"
            SandboxAccount.objects.get_or_create(
                account_id=f"soak-acc-{n}", defaults={"name": f"Soak sender {n}", "provider_id": provider_id}
            )
            senders.append(
                LinkedInAccount.objects.create(
                    client=client,
                    name=f"Soak sender {n}",
                    unipile_account_id=f"soak-acc-{n}",
                    provider_id=provider_id,
                    status="OK",
                    daily_invite_limit=6,
                    weekly_invite_limit=100,
                    daily_message_limit=8,
                    min_seconds_between_actions=10,
                )
            )
        campaigns = []
        for n in range(2):
            campaign = Campaign.objects.create(
                client=client,
                name=f"Soak campaign {n}",
                status="active",
                working_days=[0, 1, 2, 3, 4, 5, 6],
                work_start=dt.time(0, 0),
                work_end=dt.time(23, 59, 59),
                activated_at=timezone.now(),
            )
            campaign.senders.set(senders[n::2])
            campaign_set_steps(
                campaign=campaign,
                steps=[
                    {"position": 1, "action": "invite", "template": ""},
                    {"position": 2, "action": "message", "template": f"Hi {{first_name}}, c{n} s2"},
                    {"position": 3, "action": "message", "template": f"Following up, c{n} s3"},
                ],
            )
            campaigns.append(campaign)
        Lead.objects.bulk_create(
            [
                Lead(
                    campaign=campaigns[i % 2],
                    first_name=f"Person{i}",
                    public_identifier=f"soak-person-{i}",
                    next_action_at=timezone.now(),
                )
                for i in range(leads)
            ]
        )
        for source in ("messaging", "users", "account_status"):
            SandboxWebhook.objects.update_or_create(
                id=f"wh_soak_{source}",
                defaults={
                    "source": source,
                    "request_url": f"{settings.PUBLIC_BASE_URL}/webhooks/unipile/{source}/",
                    "name": f"outreach-{source}",
                    "headers": [{"key": "Unipile-Auth", "value": settings.UNIPILE_WEBHOOK_SECRET}],
                },
            )
        for name, seconds in FAST_INTERVALS.items():
            schedule, _ = IntervalSchedule.objects.get_or_create(every=seconds, period=IntervalSchedule.SECONDS)
            PeriodicTask.objects.filter(name=name).update(interval=schedule, enabled=True)
        self.stdout.write(f"Set up: {accounts} accounts, {leads} leads, faults at {fault_rate:.0%} per kind.")

    # --- processes ------------------------------------------------------------------------------

    def _worker(self, env, n: int) -> subprocess.Popen:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "outreach",
                "worker",
                "-c",
                "1",
                "-n",
                f"soak{n}@%h",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=WARNING",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _start(self, env, port: int, workers: int) -> dict:
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "outreach.wsgi:application",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "2",
                "-k",
                "gthread",
                "--threads",
                "8",
                "--timeout",
                "90",
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(60):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        else:
            web.kill()
            raise CommandError("The web server did not start.")
        beat = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "outreach",
                "beat",
                "--loglevel=WARNING",
                "--scheduler",
                "django_celery_beat.schedulers:DatabaseScheduler",
                "--max-interval",
                "2",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return {"web": web, "beat": beat, "workers": [self._worker(env, n) for n in range(workers)]}

    def _flip_status(self, rng: random.Random) -> str:
        """An account loses its session and gets it back, sometimes twice in a row (CREDENTIALS, OK, CREDENTIALS,
        OK within seconds), as Unipile reports it: each change is one webhook, delayed and duplicated like the rest."""
        from integrations.sandbox import engine
        from integrations.sandbox.models import SandboxAccount

        account = rng.choice(list(SandboxAccount.objects.filter(account_id__startswith="soak-acc-")))
        flips = ["CREDENTIALS", "OK"] * rng.choice((1, 2))
        for status in flips:
            account.status = status
            account.save(update_fields=["status"])
            engine.account_status_changed(account)
            time.sleep(rng.uniform(0.2, 1.5))
        return f"{account.account_id}: {' -> '.join(flips)}"

    def _run(self, processes: dict, env, minutes: float, kill_every: float) -> None:
        deadline = time.monotonic() + minutes * 60
        next_kill = time.monotonic() + kill_every
        next_flip = time.monotonic() + STATUS_FLIP_EVERY
        rng = random.Random(3)
        kills = 0
        while time.monotonic() < deadline:
            time.sleep(2)
            if time.monotonic() >= next_flip:
                self.stdout.write(f"  status flips: {self._flip_status(rng)}")
                next_flip += STATUS_FLIP_EVERY
            if time.monotonic() >= next_kill:
                n = rng.randrange(len(processes["workers"]))
                processes["workers"][n].send_signal(signal.SIGKILL)
                processes["workers"][n].wait()
                processes["workers"][n] = self._worker(env, n)
                kills += 1
                next_kill += kill_every
                self.stdout.write(f"  killed worker {n} with SIGKILL and restarted it ({kills} so far)")
            for name in ("web", "beat"):
                if processes[name].poll() is not None:
                    raise CommandError(f"The {name} process died (exit {processes[name].returncode}).")
        self.stdout.write(f"Ran {minutes:g} minutes with {len(processes['workers'])} workers, {kills} killed.")

    def _stop(self, processes: dict) -> None:
        processes["beat"].terminate()
        processes["beat"].wait(timeout=30)
        time.sleep(20)  # the workers finish what is queued
        for worker in processes["workers"]:
            worker.terminate()
        for worker in processes["workers"]:
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
        self._web = processes["web"]  # stays up for the final reconciliation

    def _settle(self) -> None:
        """What the periodic jobs would do next, once: interrupted sends confirmed, webhooks delivered, replies polled."""
        from campaigns.engine.sender import _Provider, accounts_with_work, reconcile_claimed
        from inbox.polling import poll_replies
        from integrations.models import LinkedInAccount, WebhookDelivery
        from integrations.sandbox import engine
        from integrations.sandbox.models import SandboxSettings
        from integrations.webhooks import process_pending

        try:
            SandboxSettings.objects.filter(pk=1).update(
                rate_429=0, rate_500=0, rate_500_after_effect=0, rate_timeout=0, rate_cannot_resend_yet=0
            )
            later = timezone.now() + dt.timedelta(minutes=30)
            provider = _Provider(None)
            for account in LinkedInAccount.objects.filter(client__slug=SOAK_SLUG):
                reconcile_claimed(account=account, now=later, provider=provider)
            for _ in range(5):
                engine.deliver_webhooks(later)
                later += dt.timedelta(minutes=10)
            while process_pending(limit=500):
                pass
            for account in LinkedInAccount.objects.filter(client__slug=SOAK_SLUG):
                poll_replies(account=account)
            self._drain_outbound()
            stuck = WebhookDelivery.objects.filter(status="received").count()
            self.stdout.write(
                f"Settled: {len(accounts_with_work(timezone.now()))} account(s) with work left, {stuck} webhook(s) unprocessed."
            )
        finally:
            self._web.terminate()
            self._web.wait(timeout=30)

    def _drain_outbound(self) -> None:
        """Outbound deliveries still open (a killed worker's lease, a retry due): sent until none is left."""
        from integrations.models import EventDelivery
        from integrations.outbound import dispatch

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            open_ = EventDelivery.objects.filter(status__in=EventDelivery.OPEN_STATUSES)
            if not open_.exists():
                return
            if not dispatch(now=timezone.now() + dt.timedelta(minutes=5), limit=500).ids:
                time.sleep(0.5)

    # --- checks ---------------------------------------------------------------------------------

    def _check_outbound(self) -> int:
        """Every event was accepted by the receiver at least once; a lead's events arrived in the order written."""
        from integrations.models import EventDelivery, OutboxEvent

        receiver = getattr(self, "receiver", None)
        if receiver is None:
            self.stdout.write("Outbound webhooks: not checked (the receiver lives only during a run).")
            return 0
        try:
            first = receiver.first_arrivals()
            events = list(
                OutboxEvent.objects.filter(client__slug=SOAK_SLUG).order_by("id").values_list("public_id", "lead_id")
            )
            lost = [public_id for public_id, _lead in events if public_id not in first]
            order_broken = []
            last_seen: dict[int, float] = {}
            for public_id, lead_id in events:
                if lead_id is None or public_id not in first:
                    continue
                arrival = first[public_id][0]
                if arrival < last_seen.get(lead_id, 0):
                    order_broken.append(public_id)
                last_seen[lead_id] = max(arrival, last_seen.get(lead_id, 0))
            given_up = EventDelivery.objects.filter(event__client__slug=SOAK_SLUG, status__in=["failed", "cancelled"])
            self.stdout.write(
                f"Outbound webhooks: {len(events)} events, {len(receiver.accepted)} accepted deliveries "
                f"({len(receiver.accepted) - len(first)} duplicates), {receiver.refused} refused on purpose, "
                f"{receiver.bad_signatures} bad signatures."
            )
            problems = self._report("outbound events never delivered", lost, "event ids")
            problems += self._report("outbound events out of order for their lead", order_broken, "event ids")
            problems += self._report("outbound deliveries given up", list(given_up.values_list("pk", flat=True)), "ids")
            problems += self._report("outbound deliveries with a bad signature", [1] * receiver.bad_signatures, "count")
            return problems
        finally:
            receiver.stop()

    def _check(self, started) -> int:
        from campaigns.models import OutboundAction
        from inbox.models import Message
        from integrations.models import LinkedInAccount, WebhookDelivery
        from integrations.sandbox.models import (
            SandboxAccount,
            SandboxChat,
            SandboxDelivery,
            SandboxInvitation,
            SandboxMessage,
            SandboxRateLimit,
        )
        from leads.models import Lead

        problems = 0
        accounts = {a.unipile_account_id: a for a in LinkedInAccount.objects.filter(client__slug=SOAK_SLUG)}
        # Caps, on the sandbox's side: what reached LinkedIn per account and day.
        invites = Counter(
            (inv.account.account_id, inv.created_at.date())
            for inv in SandboxInvitation.objects.filter(
                account__account_id__in=list(accounts), created_at__gte=started
            ).select_related("account")
        )
        messages = Counter(
            (m.chat.account.account_id, m.created_at.date())
            for m in SandboxMessage.objects.filter(
                chat__account__account_id__in=list(accounts), is_sender=True, created_at__gte=started
            ).select_related("chat__account")
        )
        violations = []
        for (account_id, day), n in invites.items():
            cap = accounts[account_id].cap_of_day("invite", day)
            if n > cap:
                violations.append(f"{account_id} {day}: {n} invitations, cap {cap}")
        for (account_id, day), n in messages.items():
            cap = accounts[account_id].cap_of_day("message", day)
            if n > cap:
                violations.append(f"{account_id} {day}: {n} messages, cap {cap}")
        problems += self._report(
            "cap violations", violations, f"{sum(invites.values())} invitations, {sum(messages.values())} messages sent"
        )
        # Duplicates: the same person invited twice by an account, the same step text twice in a chat.
        dup_invites = (
            SandboxInvitation.objects.filter(account__account_id__in=list(accounts))
            .values("account_id", "member_id")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
        )
        dup_chats = (
            SandboxChat.objects.filter(account__account_id__in=list(accounts))
            .values("account_id", "member_id")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
        )
        dup_texts = (
            SandboxMessage.objects.filter(chat__account__account_id__in=list(accounts), is_sender=True)
            .values("chat_id", "text")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
        )
        duplicates = (
            [f"invitation {d}" for d in dup_invites]
            + [f"chat {d}" for d in dup_chats]
            + [f"message {d}" for d in dup_texts]
        )
        problems += self._report("actions sent twice", duplicates, "compared with the sandbox's record")
        # Replies written by the sandbox's people that Outreach does not have.
        replies = list(
            SandboxMessage.objects.filter(chat__account__account_id__in=list(accounts), is_sender=False).values_list(
                "id", flat=True
            )
        )
        known = set(
            Message.objects.filter(provider_message_id__in=replies).values_list("provider_message_id", flat=True)
        )
        missed = [r for r in replies if r not in known]
        problems += self._report("replies missed", missed, f"{len(replies)} replies written")
        # Webhook deliveries the sandbox made (HTTP 200) that Outreach did not store.
        delivered = SandboxDelivery.objects.filter(webhook__id__startswith="wh_soak_", delivered_at__isnull=False)
        keys = set(WebhookDelivery.objects.values_list("dedupe_key", flat=True))
        lost = []
        for delivery in delivered.iterator():
            payload = delivery.payload
            if "message_id" in payload:
                key = f"{payload.get('event')}:{payload['message_id']}"
            elif "user_provider_id" in payload:
                key = f"{payload.get('event')}:{payload.get('account_id')}:{payload['user_provider_id']}"
            else:
                continue
            if key not in keys:
                lost.append(key)
        unprocessed = WebhookDelivery.objects.filter(status="received").count()
        problems += self._report(
            "webhook deliveries lost",
            lost + ([f"{unprocessed} never processed"] if unprocessed else []),
            f"{delivered.count()} delivered by the sandbox",
        )
        # Leads stuck without a reason.
        now = timezone.now()
        open_actions = OutboundAction.objects.filter(status__in=OutboundAction.OPEN_STATUSES).values("lead_id")
        stuck = list(
            Lead.objects.filter(
                campaign__client__slug=SOAK_SLUG,
                status__in=["pending", "connected", "messaged"],
                next_action_at__lt=now - dt.timedelta(minutes=5),
                last_error="",
            )
            .exclude(pk__in=open_actions)
            .values_list("pk", flat=True)[:20]
        )
        errors_without_reason = list(
            Lead.objects.filter(campaign__client__slug=SOAK_SLUG, status="error", last_error="").values_list(
                "pk", flat=True
            )[:20]
        )
        problems += self._report(
            "leads stuck without a reason", [f"lead {pk}" for pk in stuck + errors_without_reason], ""
        )
        # A 429 cools the whole account down: nothing reached anyone from it during the shortest cool-down.
        window = dt.timedelta(minutes=SOAK_COOLDOWN_MINUTES[0])
        limits = list(
            SandboxRateLimit.objects.filter(account__account_id__in=list(accounts), at__gte=started).select_related(
                "account"
            )
        )
        early = []
        for limit in limits:
            sends = (
                SandboxInvitation.objects.filter(
                    account=limit.account, created_at__gt=limit.at, created_at__lt=limit.at + window
                ).count()
                + SandboxMessage.objects.filter(
                    chat__account=limit.account,
                    is_sender=True,
                    created_at__gt=limit.at,
                    created_at__lt=limit.at + window,
                ).count()
            )
            if sends:
                early.append(
                    f"{limit.account.account_id}: {sends} sent within {window} of a 429 at {limit.at:%H:%M:%S}"
                )
        problems += self._report("sends within a 429 cool-down", early, f"{len(limits)} 429s answered")
        # Each account's status is the one its last status event said.
        drift = [
            f"{remote.account_id}: Outreach says {accounts[remote.account_id].status}, the last event {remote.status}"
            for remote in SandboxAccount.objects.filter(account_id__in=list(accounts))
            if accounts[remote.account_id].status != remote.status
        ]
        problems += self._report("account status not the last event", drift, f"{len(accounts)} accounts")
        statuses = Counter(Lead.objects.filter(campaign__client__slug=SOAK_SLUG).values_list("status", flat=True))
        self.stdout.write("Leads by status: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
        return problems

    def _report(self, name: str, found: list, context: str) -> int:
        line = f"{name:<32} {len(found):>5}" + (f"   ({context})" if context else "")
        self.stdout.write(self.style.SUCCESS(line) if not found else self.style.ERROR(line))
        for item in found[:10]:
            self.stdout.write(f"    {item}")
        return len(found)
