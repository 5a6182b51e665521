from integrations.webhooks import process_pending
from outreach.management.periodic import PeriodicCommand


class Command(PeriodicCommand):
    help = "Process every stored webhook delivery not yet processed, oldest first (what the worker does on each kick)."
    every = 30.0

    def tick(self) -> str:
        total = 0
        while taken := process_pending(limit=200):
            total += taken
        return f"{total} delivery(ies) processed."
