from inbox.services import wake_snoozed
from outreach.management.periodic import PeriodicCommand


class Command(PeriodicCommand):
    help = "Reopen snoozed conversations whose time has come (beat runs this every minute)."

    def tick(self) -> str:
        return f"{wake_snoozed()} conversation(s) woken up."
