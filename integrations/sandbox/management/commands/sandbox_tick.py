import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations.sandbox import engine


class Command(BaseCommand):
    help = "Let the sandbox's simulated people act and deliver its webhooks (what beat runs every 10 s)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One pass, then exit.")
        parser.add_argument("--every", type=float, default=10.0, help="Seconds between passes.")

    def handle(self, *args, once, every, **options):
        if not settings.UNIPILE_SANDBOX:
            raise CommandError("The sandbox is off: set UNIPILE_SANDBOX=true (development only).")
        while True:
            people = engine.simulate()
            hooks = engine.deliver_webhooks()
            self.stdout.write(
                f"accepted {people['accepted']}, replied {people['replied']}, "
                f"webhooks delivered {hooks['delivered']}, failed {hooks['failed']}"
            )
            if once:
                return
            time.sleep(every)
