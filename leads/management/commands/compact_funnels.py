from leads.funnel import compact
from outreach.management.periodic import PeriodicCommand


class Command(PeriodicCommand):
    help = "Fold the reports' per-event count rows into one row per campaign and quarter hour (beat: every minute)."
    every = 60.0

    def tick(self) -> str:
        return f"{compact()} count row(s) folded."
