from django.core.management.base import BaseCommand

from campaigns.engine.sync import sync_relations
from outreach.jobs import run_for_accounts


class Command(BaseCommand):
    help = "Reconcile with LinkedIn for every working account (beat runs this a few times a day); see the sync states in the admin."

    def add_arguments(self, parser):
        parser.add_argument("--account", type=int, help="Only this LinkedIn account (id).")

    def handle(self, *args, account, **options):
        summary = run_for_accounts(sync_relations, name="sync_relations", account_id=account, write=self.stdout.write)
        self.stdout.write(f"{summary['accounts']} account(s), {summary['failed']} failed.")
