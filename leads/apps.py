from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def count_missing_funnels(sender, using="default", **kwargs):
    """After an upgrade that brought the rollups (or on a database whose rollups were emptied), count them from
    the event log once, so the reports read right from the first page."""
    from .funnel import rebuild
    from .models import FUNNEL_EVENT_TYPES, Event, LeadFunnel

    if LeadFunnel._meta.db_table not in connections[using].introspection.table_names():
        return  # migrated back to before the rollups
    if LeadFunnel.objects.using(using).exists():
        return
    if not Event.objects.using(using).filter(type__in=FUNNEL_EVENT_TYPES, lead__isnull=False).exists():
        return
    counted = rebuild()
    if kwargs.get("verbosity", 1):
        print(
            f"  Counted the reports' rollups: {counted.get('leads', 0)} lead(s), {counted.get('events', 0)} event(s)."
        )


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Leads"

    def ready(self):
        post_migrate.connect(count_missing_funnels, sender=self, dispatch_uid="leads.count_missing_funnels")
