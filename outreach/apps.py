from django.apps import AppConfig
from django.db.models.signals import post_migrate


class OutreachConfig(AppConfig):
    name = "outreach"
    verbose_name = "Tenancy"

    def ready(self):
        from .beat import sync_periodic_tasks
        from .groups import sync_staff_groups

        # Registered for this app only, so it runs once per migrate, after django_celery_beat's tables exist.
        post_migrate.connect(sync_periodic_tasks, sender=self, dispatch_uid="outreach.sync_periodic_tasks")
        post_migrate.connect(sync_staff_groups, sender=self, dispatch_uid="outreach.sync_staff_groups")
