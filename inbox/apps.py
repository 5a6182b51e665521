from django.apps import AppConfig


class InboxConfig(AppConfig):
    name = "inbox"
    verbose_name = "Inbox"

    def ready(self):
        from integrations.webhooks import register_handler

        from .ingest import handle_message_webhook

        register_handler("message_received", handle_message_webhook)

        from campaigns.signals import action_sent

        from .services import on_action_sent

        action_sent.connect(on_action_sent, dispatch_uid="inbox.on_action_sent")
