from django.core.management.base import BaseCommand, CommandError

from integrations.services import account_sync, accounts_to_sync
from integrations.unipile import UnipileError


class Command(BaseCommand):
    help = "sync: ask Unipile about every LinkedIn account and store its status and own provider id."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["sync"])

    def handle(self, *args, action, **options):
        try:
            results = account_sync(accounts=accounts_to_sync())
        except (UnipileError, ValueError) as exc:
            raise CommandError(f"Unipile did not answer: {exc}") from None
        for result in results:
            self.stdout.write(result.message)
        self.stdout.write(self.style.SUCCESS(f"{len(results)} account(s) checked."))
