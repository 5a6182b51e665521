from django.core.management.base import BaseCommand, CommandError

from integrations.services import account_sync, accounts_to_sync
from integrations.unipile import UnipileError


class Command(BaseCommand):
    help = (
        "Read every LinkedIn account's status, own provider id, kind and premium from Unipile (beat runs this a few "
        "times a day); a disconnected account is paused and its operators emailed, a reconnected one resumes."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run once (the default; kept for symmetry).")

    def handle(self, *args, **options):
        try:
            results = account_sync(accounts=accounts_to_sync())
        except (UnipileError, ValueError) as exc:
            raise CommandError(f"Unipile did not answer: {exc}") from None
        for result in results:
            self.stdout.write(result.message)
        self.stdout.write(self.style.SUCCESS(f"{len(results)} account(s) checked."))
