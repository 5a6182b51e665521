from outreach.api.idempotency import purge_expired
from outreach.management.periodic import PeriodicCommand


class Command(PeriodicCommand):
    help = "Delete API idempotency keys past their 24 hours (beat runs this hourly)."
    every = 3600.0

    def tick(self) -> str:
        return f"{purge_expired()} expired idempotency key(s) deleted."
