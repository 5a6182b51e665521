from django.core.management.base import BaseCommand

from integrations.outbound import dispatch


class Command(BaseCommand):
    help = "Send due outbound webhook deliveries (beat runs this every 10 s, workers after each change)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One batch (the default).")
        parser.add_argument("--limit", type=int, default=200)

    def handle(self, *args, limit, **options):
        result = dispatch(limit=limit)
        self.stdout.write(
            f"{result.delivered} delivered, {result.failed} failed (will retry), {result.gave_up} given up."
        )
