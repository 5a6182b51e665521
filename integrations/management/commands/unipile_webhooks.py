from django.core.management.base import BaseCommand, CommandError

from integrations.services import AccountActionRefused, webhooks_register
from integrations.unipile import UnipileClient, UnipileError


class Command(BaseCommand):
    help = (
        "register: make sure exactly one webhook per source (messaging, users, account_status) points at "
        "PUBLIC_BASE_URL/webhooks/unipile/<source>/ with our secret; list; delete <id>."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["register", "list", "delete"])
        parser.add_argument("webhook_id", nargs="?")

    def handle(self, *args, action, webhook_id, **options):
        try:
            client = UnipileClient.from_settings()
            if action == "register":
                report = webhooks_register(client=client)
                for kind in ("kept", "created", "deleted"):
                    for line in report[kind]:
                        self.stdout.write(f"{kind}: {line}")
                self.stdout.write(self.style.SUCCESS("Webhooks are registered."))
            elif action == "list":
                hooks = list(client.list_webhooks())
                for hook in hooks:
                    self.stdout.write(f"{hook.id}  {hook.source:15} {hook.request_url}  {hook.name}")
                if not hooks:
                    self.stdout.write("No webhooks.")
            else:
                if not webhook_id:
                    raise CommandError("delete needs the webhook id: unipile_webhooks delete <id>")
                client.delete_webhook(webhook_id=webhook_id)
                self.stdout.write(self.style.SUCCESS(f"Deleted {webhook_id}."))
        except (UnipileError, ValueError, AccountActionRefused) as exc:
            raise CommandError(str(exc)) from None
