from outreach.api.idempotency import purge_expired
from outreach.management.periodic import PeriodicCommand
from outreach.ratelimit import purge_windows


class Command(PeriodicCommand):
    help = "Delete API idempotency keys past their 24 hours and ended throttle windows (beat runs this hourly)."
    every = 3600.0

    def tick(self) -> str:
        windows = purge_windows()
        return f"{purge_expired()} expired idempotency key(s) and {windows} ended throttle window(s) deleted."
