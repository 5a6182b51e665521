"""Load the demo: a client, two sender accounts, a branching connector campaign and 50 leads,
and an admin user. Safe to run again: nothing is duplicated and nothing an operator changed is overwritten."""

import datetime as dt
import os
import secrets

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from outreach.models import Client, Membership

FIRST_NAMES = ["Alice", "Bruno", "Chloé", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas"]
LAST_NAMES = ["Martin", "Okafor", "Schmidt", "Nakamura", "Rossi"]
COMPANIES = ["Northwind", "Globex", "Initech", "Umbrella Labs", "Stark Analytics", "Wayne Logistics", "Acme Cloud"]
TITLES = ["Head of Growth", "CTO", "VP Sales", "Founder", "Marketing Director", "Head of Operations"]
CITIES = ["Paris", "Berlin", "London", "Madrid", "Amsterdam"]

# Zero delays: the demo shows a whole sequence within minutes. Real campaigns wait working days.
STEPS = [
    ("invite", 0, "Hi {first_name}, I work with teams like {company} on outbound. Happy to connect!", ""),
    (
        "message",
        0,
        "Thanks for connecting, {first_name}! How is {company} handling pipeline this quarter?",
        "Great to be connected, {first_name|there}. Curious: what does outbound look like at {company}?",
    ),
    ("visit", 0, "", ""),
    (
        "message",
        0,
        "{first_name}, we helped a {title|team} in {city|your city} double their reply rate. Worth a chat?",
        "",
    ),
]


class Command(BaseCommand):
    help = "Load the demo client, accounts, campaign and leads, and make sure an admin user exists."

    def add_arguments(self, parser):
        parser.add_argument("--username", default=os.environ.get("OUTREACH_ADMIN_USER", "admin"))

    def handle(self, *args, username, **options):
        with transaction.atomic():
            client, campaign = self._load_demo()
        self._ensure_admin(username, client)
        self.stdout.write(
            self.style.SUCCESS(f"Demo ready: client {client}, campaign {campaign!r} ({campaign.leads.count()} leads).")
        )

    def _load_demo(self):
        account_model = apps.get_model("integrations", "LinkedInAccount")
        campaign_model = apps.get_model("campaigns", "Campaign")
        lead_model = apps.get_model("leads", "Lead")

        client, _ = Client.objects.get_or_create(
            slug="demo",
            defaults={"name": "Demo Client", "timezone": "Europe/Paris", "report_recipients": "client@example.com"},
        )
        accounts = []
        for number, name in ((1, "Sofia Demo"), (2, "Marc Demo")):
            account, _ = account_model.objects.get_or_create(
                unipile_account_id=f"sandbox-account-{number}",
                defaults={
                    "client": client,
                    "name": name,
                    "status": "OK",
                    "provider_id": f"ACoAADemoSender{number:04d}",
                    "min_seconds_between_actions": 30,  # short for the demo; the default is 120
                },
            )
            accounts.append(account)
            if settings.UNIPILE_SANDBOX:
                # The sandbox provider plays Unipile: it needs the same accounts on its side.
                apps.get_model("sandbox", "SandboxAccount").objects.get_or_create(
                    account_id=account.unipile_account_id,
                    defaults={"name": account.name, "provider_id": account.provider_id, "feature": account.kind},
                )

        # Works around the clock so the demo moves whenever it is started.
        campaign, created = campaign_model.objects.get_or_create(
            client=client,
            name="Demo: founders in Europe",
            defaults={
                "kind": "connector",
                "timezone": "Europe/Paris",
                "work_start": dt.time(0, 0),
                "work_end": dt.time(23, 59),
                "working_days": list(range(7)),
            },
        )
        if created:
            campaign.senders.set(accounts)
            from campaigns.sequence import node, sequence_replace

            invite, message1, _visit, message2 = STEPS

            # Invite; if accepted within 2 days: message, visit, message; else: withdraw, follow, InMail.
            sequence_replace(
                campaign=campaign,
                specs=[
                    node("1", None, action="invite", template=invite[2], label="Invitation"),
                    node("2", "1", action="condition", condition="accepted", within_days=2, label="Accepted?"),
                    node(
                        "3",
                        "2",
                        "yes",
                        action="message",
                        template=message1[2],
                        template_b=message1[3],
                        label="Thanks for connecting",
                    ),
                    node("4", "3", action="visit", label="Visit"),
                    node("5", "4", action="message", template=message2[2], label="Case study"),
                    node("6", "2", "no", action="withdraw", label="Withdraw invitation"),
                    node("7", "6", action="follow", label="Follow"),
                    node(
                        "8",
                        "7",
                        action="inmail",
                        label="InMail",
                        template="Hi {first_name|there}, my invitation may have got lost: could I tell you about "
                        "{company|it}?",
                    ),
                ],
            )
        existing = set(lead_model.objects.filter(campaign=campaign).values_list("public_identifier", flat=True))
        new_leads = []
        for i in range(50):
            first, last = FIRST_NAMES[i % len(FIRST_NAMES)], LAST_NAMES[i // len(FIRST_NAMES)]
            slug = f"{first}-{last}-demo{i:02d}".lower().replace("é", "e")
            if slug in existing:
                continue
            new_leads.append(
                lead_model(
                    campaign=campaign,
                    first_name=first,
                    last_name=last,
                    company=COMPANIES[i % len(COMPANIES)],
                    title=TITLES[i % len(TITLES)],
                    public_identifier=slug,
                    linkedin_url=f"https://www.linkedin.com/in/{slug}/",
                    custom_fields={"city": CITIES[i % len(CITIES)]} if i % 4 else {},
                )
            )
        lead_model.objects.bulk_create(new_leads)
        if settings.UNIPILE_SANDBOX and settings.UNIPILE_WEBHOOK_SECRET:
            self._register_sandbox_webhooks()
        if campaign.status == "draft":
            # The demo spans every app; outreach's own code imports none of them at module level.
            from campaigns.services import campaign_activate

            campaign_activate(campaign=campaign)
        if settings.UNIPILE_SANDBOX:
            self._demo_source(campaign, accounts[0])
        return client, campaign

    def _demo_source(self, campaign, account):
        """One LinkedIn search read by the sandbox, so the demo shows a source filling the campaign."""
        from campaigns.models import LeadSource
        from campaigns.sources import lead_source_create

        url = "https://www.linkedin.com/search/results/people/?keywords=founder%20europe&count=120"
        if not LeadSource.objects.filter(campaign=campaign).exists():
            lead_source_create(campaign=campaign, account=account, url=url, max_leads=100)

    def _register_sandbox_webhooks(self):
        """The sandbox is ours: its webhooks point at this installation with the secret, as Unipile's would."""
        hook_model = apps.get_model("sandbox", "SandboxWebhook")
        for source in ("messaging", "users", "account_status"):
            hook_model.objects.update_or_create(
                id=f"wh_demo_{source}",
                defaults={
                    "source": source,
                    "request_url": f"{settings.PUBLIC_BASE_URL}/webhooks/unipile/{source}/",
                    "name": f"outreach-{source}",
                    "headers": [
                        {"key": "Content-Type", "value": "application/json"},
                        {"key": "Unipile-Auth", "value": settings.UNIPILE_WEBHOOK_SECRET},
                    ],
                },
            )

    def _ensure_admin(self, username, client):
        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first()
        url = f"{settings.PUBLIC_BASE_URL}/admin/"
        if user is None:
            password = os.environ.get("OUTREACH_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
            user = user_model.objects.create_superuser(
                username=username, email=f"{username}@example.com", password=password
            )
            self.stdout.write(self.style.WARNING(f"Admin user created. Log in at {url} as {username} / {password}"))
            self.stdout.write("This password is shown once; change it with: manage.py changepassword " + username)
        else:
            self.stdout.write(f"Admin: {url} as {username} (password set when the user was created).")
        Membership.objects.get_or_create(user=user, client=client, defaults={"role": Membership.Role.ADMIN})
