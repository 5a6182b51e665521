"""Benchmark: requests per second accepted by the webhook intake against a bare Django view,
served by the same threaded server in this process, on the same database. Target ratio: >= 0.5.

The bare view is mounted only inside this command (its own URLconf below), never in the project's URLs.
"""

import json
import multiprocessing
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor

import requests
import requests as http
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.management.base import BaseCommand, CommandError
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.db import connection, connections
from django.http import HttpResponse
from django.urls import clear_url_caches, path
from django.views.decorators.csrf import csrf_exempt

from integrations.models import WebhookDelivery
from integrations.views import unipile_webhook
from outreach.bench import FiguresMixin

TARGET_RATIO = 0.5


@csrf_exempt
def bare(request):
    return HttpResponse("ok")


urlpatterns = [
    path("bare/", bare),
    path("webhooks/unipile/<str:source>/", unipile_webhook),
]


class QuietHandler(WSGIRequestHandler):
    def setup(self):
        super().setup()
        # Without it, small keep-alive responses wait on delayed ACKs (~40 ms each), for both views alike.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, *args):
        pass


def payload(i: int, run: str) -> bytes:
    return json.dumps(
        {
            "event": "message_received",
            "account_id": "bench-account",
            "account_type": "LINKEDIN",
            "account_info": {"type": "LINKEDIN", "feature": "classic", "user_id": "ACoAAbenchOwn"},
            "webhook_name": "bench",
            "chat_id": f"chat-{i % 100}",
            "message_id": f"bench-{run}-{i}",
            "message": "Hello there",
            "timestamp": "2026-11-18T10:15:00.000Z",
            "sender": {
                "attendee_id": "a",
                "attendee_name": "Bench",
                "attendee_provider_id": f"ACoAAbench{i % 100}",
                "attendee_profile_url": "",
                "attendee_specifics": {"member_urn": "urn:li:member:1"},
            },
            "attendees": [],
            "attachments": [],
            "is_sender": False,
            "provider_chat_id": "p",
            "provider_message_id": "p",
            "message_type": "MESSAGE",
            "is_group": False,
            "subject": None,
        }
    ).encode()


class Command(FiguresMixin, BaseCommand):
    help = "Requests/s of POST /webhooks/unipile/messaging/ against a bare view on the same server and database."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=2000)
        parser.add_argument("--concurrency", type=int, default=8)
        parser.add_argument("--rounds", type=int, default=3)
        parser.add_argument(
            "--server",
            choices=["gunicorn", "threaded"],
            default="gunicorn",
            help="gunicorn (2 gthread workers, as deployed) or Django's threaded development server in this process.",
        )

    def handle(self, *args, requests: int, concurrency: int, rounds: int, server: str, **options):
        if requests < 10 or concurrency < 1 or rounds < 1:
            raise CommandError("--requests must be at least 10, --concurrency and --rounds at least 1.")
        saved = (settings.UNIPILE_WEBHOOK_SECRET, settings.ROOT_URLCONF, settings.ALLOWED_HOSTS)
        try:
            self._run(requests, concurrency, rounds, server)
        finally:
            # Other benchmarks may run in this process next (manage.py bench): leave the settings as found.
            settings.UNIPILE_WEBHOOK_SECRET, settings.ROOT_URLCONF, settings.ALLOWED_HOSTS = saved
            clear_url_caches()

    def _run(self, requests: int, concurrency: int, rounds: int, server: str):
        secret = settings.UNIPILE_WEBHOOK_SECRET or "bench-secret"
        settings.UNIPILE_WEBHOOK_SECRET = secret
        settings.ROOT_URLCONF = __name__
        settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
        clear_url_caches()
        stop = self._start_gunicorn(secret) if server == "gunicorn" else self._start_threaded()
        base = stop.base
        run = f"{time.time():.0f}"
        bare_runs, hook_runs = [], []
        try:
            # Alternating rounds, median of each: the machine's other work hits both views alike.
            for round_number in range(rounds):
                bare_runs.append(self._load(f"{base}/bare/", requests, concurrency, secret, run))
                hook_runs.append(
                    self._load(
                        f"{base}/webhooks/unipile/messaging/", requests, concurrency, secret, f"{run}r{round_number}"
                    )
                )
        finally:
            stop()
        mine = WebhookDelivery.objects.filter(dedupe_key__startswith=f"message_received:bench-{run}")
        stored = mine.count()
        mine.delete()
        failed = getattr(self, "failed_requests", 0)
        if stored < requests * rounds - failed:
            raise CommandError(f"Only {stored} of {requests * rounds} deliveries were stored ({failed} failed).")
        if failed:
            self.stdout.write(f"{failed} request(s) failed or timed out; the rates count only the answered ones.")
        bare_rps, hook_rps = statistics.median(bare_runs), statistics.median(hook_runs)
        ratio = hook_rps / bare_rps
        self.stdout.write(
            f"server {server}, database {connection.vendor}, {rounds} rounds of {requests:,} requests, {concurrency} clients; medians"
        )
        self.stdout.write(f"bare view:       {bare_rps:8.0f} requests/s")
        self.stdout.write(f"webhook intake:  {hook_rps:8.0f} requests/s  (every delivery stored and queued)")
        self.stdout.write(f"ratio:           {ratio:8.2f}  (target >= {TARGET_RATIO})")
        self.figure(
            f"webhook intake vs bare view ({server})",
            f">= {TARGET_RATIO} of the bare view",
            f"{hook_rps:.0f} vs {bare_rps:.0f} req/s = {ratio:.2f}",
            TARGET_RATIO / ratio,
        )

    def _start_threaded(self):
        httpd = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=True)
        httpd.set_app(WSGIHandler())
        threading.Thread(target=httpd.serve_forever, daemon=True).start()

        def stop():
            httpd.shutdown()

        stop.base = f"http://127.0.0.1:{httpd.server_port}"
        return stop

    def _start_gunicorn(self, secret: str):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        # Served as deployed: DEBUG off (with DEBUG on, Django records every query of the intake, which the
        # bare view never pays), a throw-away key when none is set, plain http on loopback.
        env = {
            **os.environ,
            "DEBUG": "false",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
            "PUBLIC_BASE_URL": "http://127.0.0.1",
            "UNIPILE_WEBHOOK_SECRET": secret,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
        }
        env.pop("UNIPILE_SANDBOX", None)
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "bench.webhook_wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--log-level",
            "warning",
        ]
        process = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env)
        deadline = time.monotonic() + 30
        try:
            while time.monotonic() < deadline:
                try:
                    http.post(f"http://127.0.0.1:{port}/bare/", timeout=5)
                    break
                except http.RequestException:  # not listening yet, or too busy to answer in time
                    time.sleep(0.2)
            else:
                raise CommandError("gunicorn did not start within 30 s.")
        except BaseException:
            process.kill()  # a benchmark that fails stops what it started
            process.wait(timeout=30)
            raise

        def stop():
            process.terminate()
            process.wait(timeout=30)

        stop.base = f"http://127.0.0.1:{port}"
        return stop

    def _load(self, url: str, total: int, concurrency: int, secret: str, run: str) -> float:
        """Clients in their own processes, so the load generator does not share the server's GIL."""
        shares = [range(i, total, concurrency) for i in range(concurrency)]
        connections.close_all()  # forked clients must not share the server's database connections
        started = time.perf_counter()
        with ProcessPoolExecutor(concurrency, mp_context=multiprocessing.get_context("fork")) as pool:
            failures = sum(pool.map(_client, [url] * concurrency, shares, [secret] * concurrency, [run] * concurrency))
        elapsed = time.perf_counter() - started
        if failures:
            # Counted and reported, never the end of the run: a loaded machine times out a request now and then.
            self.failed_requests = getattr(self, "failed_requests", 0) + failures
            self.stderr.write(f"{failures} of {total} requests to {url} failed or timed out.")
        return (total - failures) / elapsed


def _client(url: str, indexes: range, secret: str, run: str) -> int:
    session = requests.Session()
    failures = 0
    for i in indexes:
        is_hook = "/webhooks/" in url
        body = payload(i, run) if is_hook else b"{}"
        headers = {"Content-Type": "application/json", **({"Unipile-Auth": secret} if is_hook else {})}
        try:
            failures += session.post(url, data=body, headers=headers, timeout=30).status_code != 200
        except requests.RequestException:
            failures += 1
    return failures
