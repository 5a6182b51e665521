from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from outreach.api.tokens import api_token_rotate


class Command(BaseCommand):
    help = "Issue an API token for a user, or rotate it (the old key stops working). Prints the new key."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive; activate the account before issuing a token.")
        token = api_token_rotate(user=user)
        self.stderr.write(f"Token for {username} (send it as 'Authorization: Token <key>'; any older key is revoked):")
        self.stdout.write(token.key)
