"""Benchmark: requests per second of an authenticated API list (GET /api/v1/leads?limit=50 with a token).

Runs in this process through Django's test client (no network), so the figure is the cost of the request
itself: authentication, permission, throttle, query and rendering. The token is issued the way an operator
issues one (`manage.py api_token`), so the same command measures any token scheme.
"""

import io
import statistics
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test import Client as TestClient
from django.test import RequestFactory

from campaigns.models import Campaign
from leads.models import Lead
from outreach.bench import FiguresMixin
from outreach.models import Client, Membership

SLUG = "bench-api"
LEADS = 500


class Command(FiguresMixin, BaseCommand):
    help = "Requests/s of an authenticated API list (token auth), median of several rounds."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=500)
        parser.add_argument("--rounds", type=int, default=5)

    def handle(self, *args, requests: int, rounds: int, **options):
        if requests < 10 or rounds < 1:
            raise CommandError("--requests must be at least 10 and --rounds at least 1.")
        user = self._build()
        out = io.StringIO()
        call_command("api_token", user.username, stdout=out, stderr=io.StringIO())
        key = out.getvalue().strip()
        saved = (settings.API_THROTTLE_RATE, settings.ALLOWED_HOSTS, settings.DEBUG)
        # The throttle still counts every request (its cost is part of the figure) but never refuses one.
        settings.API_THROTTLE_RATE, settings.ALLOWED_HOSTS, settings.DEBUG = "1000000/min", ["testserver"], False
        try:
            browser = TestClient(HTTP_AUTHORIZATION=f"Token {key}")
            first = browser.get("/api/v1/leads", {"limit": 50})
            if first.status_code != 200 or len(first.json()["results"]) != 50:
                raise CommandError(f"The list did not answer 50 leads: {first.status_code} {first.content[:200]!r}")
            # Leads (50 a page: the query and rendering dominate) and campaigns (one row: authentication,
            # permission and throttle dominate, so a costlier token check shows there first).
            for label, url in (("50 leads a page", "/api/v1/leads"), ("one campaign", "/api/v1/campaigns")):
                runs = self._rounds(browser, url, requests, rounds)
                rps = statistics.median(r for r, _cpu in runs)
                cpu = statistics.median(c for _r, c in runs)
                self.stdout.write(
                    f"GET {url}?limit=50 with a token: {rps:.0f} requests/s, {cpu:.2f} ms CPU in this process "
                    f"per request (medians of {rounds} x {requests})"
                )
                self.figure(f"API list with a token, {label}", "none set", f"{rps:.0f} req/s, {cpu:.2f} ms CPU")
            auth = self._authentication(key, rounds)
            self.stdout.write(f"token authentication alone ({auth[1]}): {auth[0]:.3f} ms (median of {rounds} x 300)")
            self.figure("API token authentication alone", "none set", f"{auth[0]:.3f} ms")
        finally:
            settings.API_THROTTLE_RATE, settings.ALLOWED_HOSTS, settings.DEBUG = saved

    def _authentication(self, key: str, rounds: int) -> tuple[float, str]:
        """ms per call of the configured token authentication (the lookup and its checks, no view), as a
        request reaches it from a clean address (the throttle middleware found no recent wrong token)."""
        from rest_framework.request import Request
        from rest_framework.settings import api_settings

        authentication = api_settings.DEFAULT_AUTHENTICATION_CLASSES[0]()
        factory = RequestFactory()

        def once():
            raw = factory.get("/api/v1/campaigns", HTTP_AUTHORIZATION=f"Token {key}")
            raw.recent_token_failures = False
            if authentication.authenticate(Request(raw)) is None:
                raise CommandError("The token did not authenticate.")

        for _ in range(50):
            once()
        runs = []
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(300):
                once()
            runs.append((time.perf_counter() - started) * 1000 / 300)
        return statistics.median(runs), type(authentication).__name__

    def _rounds(self, browser, url: str, requests: int, rounds: int) -> list[tuple[float, float]]:
        """(requests/s, ms of this process's CPU per request) per round. The CPU figure leaves out the
        database's and Redis's own work and the machine's other load: it shows what the Python side costs."""
        runs = []
        for _ in range(rounds):
            started, cpu_started = time.perf_counter(), time.process_time()
            for _ in range(requests):
                response = browser.get(url, {"limit": 50})
                if response.status_code != 200:
                    raise CommandError(f"A request failed: {response.status_code} {response.content[:200]!r}")
            cpu = (time.process_time() - cpu_started) * 1000 / requests
            runs.append((requests / (time.perf_counter() - started), cpu))
        return runs

    def _build(self):
        user, _ = get_user_model().objects.get_or_create(username="bench-api-admin")
        client = Client.objects.filter(slug=SLUG).first()
        if client and Lead.objects.filter(campaign__client=client).count() == LEADS:
            return user
        with transaction.atomic():
            if client:
                Lead.objects.filter(campaign__client=client).delete()
                Campaign.objects.filter(client=client).delete()
                client.delete()
            client = Client.objects.create(name="Bench API", slug=SLUG)
            Membership.objects.create(user=user, client=client, role=Membership.Role.ADMIN)
            campaign = Campaign.objects.create(client=client, name="Bench API campaign", status="active")
            Lead.objects.bulk_create(
                Lead(
                    campaign=campaign,
                    first_name=f"Person{i}",
                    last_name="Bench",
                    public_identifier=f"{SLUG}-p{i}",
                )
                for i in range(LEADS)
            )
        return user
