import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from outreach.api.tokens import api_token_issue, api_token_rotate


class Command(BaseCommand):
    help = (
        "Issue an API token for a user and print it once (only its digest is stored). By default the user's "
        "other tokens are revoked; --keep-others adds one beside them."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for (shown in the admin).")
        parser.add_argument("--expires-days", type=int, default=None, help="Expire the token after this many days.")
        parser.add_argument("--keep-others", action="store_true", help="Leave the user's other tokens active.")

    def handle(self, *args, username, name, expires_days, keep_others, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if expires_days is not None and expires_days < 1:
            raise CommandError("--expires-days must be at least 1.")
        expires_at = timezone.now() + dt.timedelta(days=expires_days) if expires_days else None
        issue = api_token_issue if keep_others else api_token_rotate
        try:
            token, key = issue(user=user, name=name, expires_at=expires_at)
        except ValidationError as error:
            raise CommandError(" ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items()))
        others = "other tokens stay active" if keep_others else "any older token is revoked"
        expiry = f"expires {token.expires_at:%Y-%m-%d %H:%M} UTC" if token.expires_at else "never expires"
        self.stderr.write(
            f"Token {token.prefix}… for {username} ({expiry}; {others}). Send it as 'Authorization: Token <key>'. "
            "It is shown only now:"
        )
        self.stdout.write(key)
