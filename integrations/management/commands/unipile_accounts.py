from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "sync: ask Unipile about every LinkedIn account and store its status, own id, kind and premium."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["sync"])

    def handle(self, *args, action, **options):
        call_command("sync_accounts", stdout=self.stdout, stderr=self.stderr)
