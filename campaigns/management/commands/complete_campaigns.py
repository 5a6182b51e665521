from django.core.management.base import BaseCommand

from campaigns.services import campaigns_complete_finished


class Command(BaseCommand):
    help = "Mark active campaigns whose every lead has finished as completed (beat runs this hourly)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run once (the default).")

    def handle(self, *args, **options):
        done = campaigns_complete_finished()
        for campaign in done:
            self.stdout.write(f"{campaign}: completed")
        self.stdout.write(f"{len(done)} campaign(s) completed.")
