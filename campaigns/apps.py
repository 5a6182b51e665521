from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns"

    def ready(self):
        from . import (
            inbound,  # noqa: F401  registers the new_relation handler
            receivers,  # noqa: F401  acts on leads' signals
        )
