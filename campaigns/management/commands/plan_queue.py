import time

from django.core.management.base import BaseCommand

from campaigns.engine.planner import plan_due


class Command(BaseCommand):
    help = "Queue the next step of every due lead of active campaigns (what beat runs every minute)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One tick, then exit.")
        parser.add_argument("--every", type=float, default=60.0)

    def handle(self, *args, once, every, **options):
        while True:
            started = time.perf_counter()
            result = plan_due()
            self.stdout.write(f"{result} in {time.perf_counter() - started:.2f} s")
            if once:
                return
            time.sleep(every)
