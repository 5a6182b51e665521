import time

from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Campaign
from leads.funnel import rebuild
from outreach.models import Client


class Command(BaseCommand):
    help = (
        "Recount the reports' rollups (each lead's funnel, the counts per quarter hour and per step) from the event "
        "log: every campaign, a client's (--client SLUG) or some (--campaign ID, repeatable). Each campaign is "
        "recounted in one transaction; its new events wait for it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--client", help="A client's slug: its campaigns only.")
        parser.add_argument("--campaign", type=int, action="append", help="A campaign's id (repeatable).")

    def handle(self, *args, client=None, campaign=None, **options):
        campaigns = Campaign.objects.order_by("pk")
        if client:
            found = Client.objects.filter(slug=client).first()
            if found is None:
                raise CommandError(f"--client: no client with the slug {client!r}.")
            campaigns = campaigns.filter(client=found)
        if campaign:
            missing = set(campaign) - set(Campaign.objects.filter(pk__in=campaign).values_list("pk", flat=True))
            if missing:
                raise CommandError(f"--campaign: no campaign with the id(s) {', '.join(map(str, sorted(missing)))}.")
            campaigns = campaigns.filter(pk__in=campaign)
        ids = list(campaigns.values_list("pk", flat=True))
        started = time.perf_counter()
        counted = rebuild(ids)
        self.stdout.write(
            f"Recounted {len(ids)} campaign(s): {counted.get('events', 0)} funnel event(s), "
            f"{counted.get('leads', 0)} lead(s), in {time.perf_counter() - started:.1f} s."
        )
