import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from campaigns.engine.sender import accounts_with_work, send_for_account
from integrations.models import LinkedInAccount


class Command(BaseCommand):
    help = "Send at most one due action per account (what beat runs every minute)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One tick, then exit.")
        parser.add_argument("--account", type=int, help="Only this LinkedIn account (id).")
        parser.add_argument("--every", type=float, default=60.0)

    def handle(self, *args, once, account, every, **options):
        if account is not None and not LinkedInAccount.objects.filter(pk=account).exists():
            raise CommandError(f"No LinkedIn account with id {account}.")
        while True:
            ids = [account] if account is not None else accounts_with_work(timezone.now())
            for account_id in ids:
                result = send_for_account(account_id=account_id)
                self.stdout.write(
                    f"account {account_id}: {result.outcome}" + (f" ({result.detail})" if result.detail else "")
                )
            if not ids:
                self.stdout.write("No account has work.")
            if once:
                return
            time.sleep(every)
