from outreach.management.periodic import PeriodicCommand
from reports.tasks import send_reply_digests


class Command(PeriodicCommand):
    help = "Send the reply notification digests that are due (beat runs this every minute)."

    def tick(self) -> str:
        return f"{send_reply_digests()} reply digest(s) sent (see Report deliveries in the admin)."
