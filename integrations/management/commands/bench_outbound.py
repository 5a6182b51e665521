"""Outbound webhooks: deliveries per second of one worker process, and the time from the change's commit to the
delivery at a steady rate, against a local receiver (its own process) that verifies every signature.

    manage.py bench_outbound --events 5000 --rate 200 --seconds 15
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections, transaction

from integrations.models import EventDelivery, OutboxEvent, WebhookEndpoint
from integrations.outbound import dispatch, emit, endpoint_create
from outreach.bench import FiguresMixin
from outreach.models import Client

BENCH_SLUG = "bench-outbound"
TARGET_RATE = 200
TARGET_P99_SECONDS = 5.0


class Command(FiguresMixin, BaseCommand):
    help = "Outbound webhook dispatch: deliveries/s of one worker, and commit-to-delivery p50/p99 at a steady rate."

    def add_arguments(self, parser):
        parser.add_argument("--events", type=int, default=5000, help="Events for the throughput run.")
        parser.add_argument("--leads", type=int, default=500, help="Leads the events belong to (order per lead).")
        parser.add_argument("--rate", type=int, default=TARGET_RATE, help="Events per second for the latency run.")
        parser.add_argument("--seconds", type=int, default=15, help="Length of the latency run.")

    def handle(self, *args, events, leads, rate, seconds, **options):
        if events < 1 or leads < 1 or rate < 1 or seconds < 1:
            raise CommandError("--events, --leads, --rate and --seconds must be positive.")
        settings.OUTBOUND_WEBHOOKS_ALLOW_INSECURE = True  # the receiver is on loopback
        Client.objects.filter(slug=BENCH_SLUG).delete()
        client = Client.objects.create(name="Bench outbound", slug=BENCH_SLUG)
        endpoint = endpoint_create(client=client, url="http://127.0.0.1:1/placeholder", events=[])
        with tempfile.TemporaryDirectory() as folder:
            port_file, out = os.path.join(folder, "url"), os.path.join(folder, "accepted.json")
            receiver = subprocess.Popen(
                [sys.executable, "-m", "bench.receiver", "--secret", endpoint.secret, "--port-file", port_file,
                 "--out", out],
                cwd=settings.BASE_DIR,
            )  # fmt: skip
            try:
                url = self._wait_for(port_file)
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=url)
                self._throughput(client, events, leads)
                produced = self._latency(client, rate, seconds, leads)
            finally:
                receiver.terminate()
                receiver.wait(timeout=30)
            with open(out) as handle:
                accepted = json.load(handle)
        self._report_latency(produced, accepted)
        Client.objects.filter(slug=BENCH_SLUG).delete()

    def _wait_for(self, path: str) -> str:
        for _ in range(100):
            if os.path.exists(path):
                with open(path) as handle:
                    if url := handle.read().strip():
                        return url
            time.sleep(0.05)
        raise CommandError("The receiver did not start.")

    def _emit(self, client, n: int, leads: int) -> None:
        emit(client_id=client.pk, type="lead.status_changed", data={"lead": {"id": n % leads}, "n": n},
             lead_id=n % leads + 1)  # fmt: skip

    def _throughput(self, client, events: int, leads: int) -> None:
        with transaction.atomic():
            for n in range(events):
                self._emit(client, n, leads)
        started = time.perf_counter()
        delivered = 0
        while True:
            result = dispatch(limit=200)
            delivered += result.delivered
            if not result.ids:
                break
        elapsed = time.perf_counter() - started
        left = EventDelivery.objects.filter(event__client=client).exclude(status="delivered").count()
        per_second = delivered / elapsed
        self.stdout.write(f"Throughput: {delivered} deliveries in {elapsed:.2f} s = {per_second:.0f}/s ({left} left)")
        self.figure(
            "outbound webhooks, deliveries/s of one worker", f">= {TARGET_RATE}/s", f"{per_second:.0f}/s",
            TARGET_RATE / per_second,
        )  # fmt: skip
        OutboxEvent.objects.filter(client=client).delete()

    def _latency(self, client, rate: int, seconds: int, leads: int) -> dict[str, float]:
        """A producer writes `rate` events a second (each committed on its own) while one dispatcher sends."""
        produced: dict[str, float] = {}
        stop = threading.Event()

        def produce():
            try:
                interval, start = 1.0 / rate, time.time()
                for n in range(rate * seconds):
                    target = start + n * interval
                    if (pause := target - time.time()) > 0:
                        time.sleep(pause)
                    with transaction.atomic():
                        self._emit(client, n, leads)
                        event = OutboxEvent.objects.filter(client=client).order_by("-id").values_list("public_id")[:1]
                        public_id = event[0][0]
                    produced[public_id] = time.time()  # committed
            finally:
                stop.set()
                close_old_connections()

        producer = threading.Thread(target=produce)
        producer.start()
        while not stop.is_set() or EventDelivery.objects.filter(event__client=client, status="pending").exists():
            if not dispatch(limit=200).ids:
                time.sleep(0.01)
        producer.join()
        return produced

    def _report_latency(self, produced: dict[str, float], accepted: dict) -> None:
        first: dict[str, float] = {}
        for arrival, event_id, _lead in accepted["accepted"]:
            first.setdefault(event_id, arrival)
        latencies = sorted(first[e] - committed for e, committed in produced.items() if e in first)
        missing = len(produced) - len(latencies)
        if not latencies:
            raise CommandError("No event of the latency run reached the receiver.")
        p50 = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        self.stdout.write(
            f"Commit to delivery at {len(produced)} events: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
            f"{missing} not delivered, {accepted['bad']} bad signatures"
        )
        self.figure(
            "outbound webhooks, commit to delivery p99", f"< {TARGET_P99_SECONDS:.0f} s at 200/s", f"{p99 * 1000:.0f} ms",
            p99 / TARGET_P99_SECONDS,
        )  # fmt: skip
        if missing or accepted["bad"]:
            raise CommandError(f"{missing} event(s) not delivered, {accepted['bad']} bad signature(s).")
