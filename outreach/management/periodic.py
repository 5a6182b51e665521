"""The shape of a command that an operator runs in place of a periodic job: once, or every N seconds."""

import time

from django.core.management.base import BaseCommand


class PeriodicCommand(BaseCommand):
    """Subclasses set `every` (beat's interval) and implement tick(), which returns a line saying what it did."""

    every = 60.0

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One run, then exit.")
        parser.add_argument("--every", type=float, default=self.every, help="Seconds between runs without --once.")

    def handle(self, *args, once, every, **options):
        while True:
            self.stdout.write(self.tick())
            if once:
                return
            time.sleep(every)
