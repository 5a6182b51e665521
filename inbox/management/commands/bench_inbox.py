"""Benchmark: the inbox list and conversation pages with 100,000 conversations and 1,000,000 messages.

Builds its own data under a client named after the sizes (reused when already there), then requests
the pages as a member of that client through Django's test client (the whole view, template and
middleware stack, without a network) and prints p50/p95 and the queries per request. Meant for
PostgreSQL; the target is p95 under 150 ms with a query count that does not grow with the data.
"""

import datetime as dt
import random
import statistics
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client as TestClient
from django.utils import timezone

from campaigns.models import Campaign
from integrations.models import LinkedInAccount
from leads.models import Lead
from outreach.bench import FiguresMixin, counting_queries
from outreach.models import Client, Membership

from ...classify import CLASSES
from ...models import Conversation, Label, Message

BATCH = 10_000
WORDS = [
    "thanks",
    "interested",
    "pricing",
    "demo",
    "next",
    "week",
    "call",
    "calendar",
    "budget",
    "team",
    "quarter",
    "pilot",
    "proposal",
    "later",
    "busy",
    "introduce",
    "colleague",
    "hiring",
    "growth",
    "meeting",
    "coffee",
    "thursday",
    "friday",
    "monday",
]


class Command(FiguresMixin, BaseCommand):
    help = "Time the inbox pages on generated data: manage.py bench_inbox --conversations 100000 --messages 1000000"

    def add_arguments(self, parser):
        parser.add_argument("--conversations", type=int, default=100_000)
        parser.add_argument("--messages", type=int, default=1_000_000)
        parser.add_argument("--requests", type=int, default=60, help="Requests per page kind.")
        parser.add_argument("--rebuild", action="store_true")

    def handle(self, *args, conversations, messages, requests, rebuild, **options):
        if conversations < 1 or messages < conversations or requests < 5:
            raise CommandError("--conversations must be positive, --messages at least as many, --requests at least 5.")
        if connection.vendor != "postgresql":
            self.stderr.write(f"Warning: the target is for PostgreSQL; this database is {connection.vendor}.")
        client, user = self._build(conversations, messages, rebuild)
        browser = TestClient(SERVER_NAME="127.0.0.1")
        browser.force_login(user)
        ids = list(Conversation.objects.filter(client=client).values_list("id", flat=True)[:5000])
        account_id = LinkedInAccount.objects.filter(client=client).values_list("id", flat=True).first()
        label_id = Label.objects.filter(client=client).values_list("id", flat=True).first()
        rng = random.Random(7)
        kinds = [
            ("list, first page", lambda: "/inbox/"),
            ("list, page 40", lambda: "/inbox/?page=40"),
            ("list, unread only", lambda: "/inbox/?unread=1"),
            ("list, one sender", lambda: f"/inbox/?account={account_id}"),
            ("list, one class", lambda: "/inbox/?status=open&class=interested"),
            ("list, one label", lambda: f"/inbox/?status=open&label={label_id}"),
            ("live poll (list)", lambda: "/inbox/poll"),
            ("conversation page", lambda: f"/inbox/{rng.choice(ids)}/"),
            ("list, search", lambda: f"/inbox/?q={rng.choice(WORDS)}"),
        ]
        rows = []
        for label, path in kinds:
            times, query_counts = [], set()
            browser.get(path())  # warm the caches of this path
            for _ in range(requests):
                url = path()
                with counting_queries() as queries:
                    started = time.perf_counter()
                    response = browser.get(url)
                    elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise CommandError(f"{url} answered {response.status_code}")
                times.append(elapsed)
                query_counts.add(len(queries))
            times.sort()
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            rows.append((label, statistics.median(times), p95, query_counts))
        self.stdout.write(
            f"\nInbox with {conversations:,} conversations and {messages:,} messages ({connection.vendor}), "
            f"{requests} requests each:"
        )
        self.stdout.write(f"{'page':<22}{'p50 ms':>9}{'p95 ms':>9}  queries  target")
        for label, p50, p95, counts in rows:
            target = "ok" if p95 < 150 else "MISSED (p95 < 150 ms)"
            spread = "-".join(str(n) for n in sorted({min(counts), max(counts)}))
            self.stdout.write(f"{label:<22}{p50:>9.1f}{p95:>9.1f}  {spread:>7}  {target}")
            self.figure(
                f"inbox {label}, {conversations:,} conversations",
                "p95 < 150 ms",
                f"p95 {p95:.0f} ms, {spread} queries",
                p95 / 150,
            )

    def _build(self, conversations: int, messages: int, rebuild: bool):
        slug = f"bench-inbox-triage-{conversations}-{messages}"  # with reply classes and labels
        user_model = get_user_model()
        user, _ = user_model.objects.get_or_create(username="bench-inbox-agent")
        client = Client.objects.filter(slug=slug).first()
        if client and rebuild:
            Conversation.objects.filter(client=client).delete()
            Lead.objects.filter(campaign__client=client).delete()
            Campaign.objects.filter(client=client).delete()
            LinkedInAccount.objects.filter(client=client).delete()
            client.delete()
            client = None
        if client and Conversation.objects.filter(client=client).count() == conversations:
            self.stdout.write(f"Reusing {slug}.")
            return client, user
        if client:
            raise CommandError(f"{slug} is half built; run again with --rebuild.")
        self.stdout.write(f"Building {slug} (once)…")
        started = time.perf_counter()
        with transaction.atomic():
            client = Client.objects.create(name=f"Bench inbox {conversations}", slug=slug)
            Membership.objects.create(user=user, client=client, role="agent")
            accounts = LinkedInAccount.objects.bulk_create(
                [
                    LinkedInAccount(
                        client=client, name=f"Sender {i}", unipile_account_id=f"{slug}-acc-{i}", status="OK"
                    )
                    for i in range(50)
                ]
            )
            campaigns = [
                Campaign.objects.create(client=client, name=f"Campaign {i}", status="active") for i in range(10)
            ]
            labels = [Label.objects.create(client=client, name=f"Label {i}") for i in range(8)]
        rng = random.Random(1)
        now = timezone.now()
        per_conversation = messages // conversations
        for start in range(0, conversations, BATCH):
            with transaction.atomic():
                count = min(BATCH, conversations - start)
                leads = Lead.objects.bulk_create(
                    [
                        Lead(
                            campaign=campaigns[(start + i) % len(campaigns)],
                            first_name=f"Person{start + i}",
                            last_name="Bench",
                            public_identifier=f"{slug}-p{start + i}",
                            status="replied",
                        )
                        for i in range(count)
                    ]
                )
                batch = []
                for i, lead in enumerate(leads):
                    last = now - dt.timedelta(minutes=rng.randint(0, 60 * 24 * 90))
                    unread = rng.random() < 0.1
                    batch.append(
                        Conversation(
                            client=client,
                            account=accounts[(start + i) % len(accounts)],
                            chat_id=f"{slug}-chat-{start + i}",
                            lead=lead,
                            person_name=f"Person{start + i} Bench",
                            status=rng.choices(["open", "snoozed", "closed"], weights=[7, 1, 2])[0],
                            unread_count=1 if unread else 0,
                            unread=unread,
                            last_message_at=last,
                            last_message_preview=" ".join(rng.choices(WORDS, k=8)),
                            last_message_inbound=True,
                            reply_class=rng.choice(CLASSES)[0],
                        )
                    )
                created = Conversation.objects.bulk_create(batch)
                # A third of the conversations carry one or two labels, their leads too.
                tagged = [c for c in created if rng.random() < 0.33]
                Label.conversations.through.objects.bulk_create(
                    [
                        Label.conversations.through(label=label, conversation=c)
                        for c in tagged
                        for label in rng.sample(labels, rng.choice([1, 2]))
                    ]
                )
                texts = []
                for conversation in created:
                    for m in range(per_conversation):
                        texts.append(
                            Message(
                                conversation=conversation,
                                direction="in" if m % 2 else "out",
                                text=" ".join(rng.choices(WORDS, k=12)),
                                reply_class=conversation.reply_class if m % 2 else "",
                                provider_message_id=f"{conversation.chat_id}-m{m}",
                                sent_at=conversation.last_message_at - dt.timedelta(hours=per_conversation - m),
                            )
                        )
                Message.objects.bulk_create(texts, batch_size=BATCH)
            self.stdout.write(f"  {start + count:,} conversations", ending="\r")
            self.stdout.flush()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "ANALYZE inbox_conversation; ANALYZE inbox_message; ANALYZE leads_lead; "
                    "ANALYZE inbox_label_conversations"
                )
        self.stdout.write(f"\nBuilt in {time.perf_counter() - started:.0f} s.")
        return client, user
