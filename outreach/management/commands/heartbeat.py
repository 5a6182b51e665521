from django.utils import timezone

from outreach.management.periodic import PeriodicCommand
from outreach.tasks import heartbeat


class Command(PeriodicCommand):
    help = "Record that the scheduler is alive (shown by /healthz), as beat does every minute."

    def tick(self) -> str:
        heartbeat()
        return f"Heartbeat recorded at {timezone.now():%Y-%m-%d %H:%M:%S %Z}."
