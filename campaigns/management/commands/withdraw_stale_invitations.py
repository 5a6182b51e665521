from django.core.management.base import BaseCommand

from campaigns.engine.invitations import withdraw_stale_invitations


class Command(BaseCommand):
    help = "Withdraw invitations older than their step's withdraw-after-days and mark the leads withdrawn."

    def handle(self, *args, **options):
        result = withdraw_stale_invitations()
        self.stdout.write(f"withdrawn {result.withdrawn}, failed {result.failed}, skipped {result.skipped}")
