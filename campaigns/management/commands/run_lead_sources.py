from django.core.management.base import BaseCommand
from django.utils import timezone

from campaigns.sources import due_sources, lead_source_run


class Command(BaseCommand):
    help = "Read one page of every due LinkedIn lead source (beat runs this every 30 s)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One round (the default).")

    def handle(self, *args, **options):
        ids = due_sources(timezone.now())
        for source_id in ids:
            self.stdout.write(f"source {source_id}: {lead_source_run(source_id=source_id)}")
        self.stdout.write(f"{len(ids)} source(s) read.")
