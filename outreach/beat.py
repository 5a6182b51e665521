"""Periodic jobs are declared in settings.OUTREACH_PERIODIC_TASKS and written into
django-celery-beat at migrate time, so a fresh install has its schedule without clicks."""

import json

from django.conf import settings

MANAGED = "Declared in settings.OUTREACH_PERIODIC_TASKS; changed at every migrate."


def sync_periodic_tasks(**kwargs):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    declared = settings.OUTREACH_PERIODIC_TASKS
    for name, (task, every_seconds) in declared.items():
        interval, _ = IntervalSchedule.objects.get_or_create(every=every_seconds, period=IntervalSchedule.SECONDS)
        PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": task,
                "interval": interval,
                "crontab": None,
                "args": json.dumps([]),
                "enabled": True,
                "description": MANAGED,
            },
        )
    # Jobs we declared once and no longer do are disabled, not deleted: an operator may have tuned them.
    PeriodicTask.objects.filter(description=MANAGED).exclude(name__in=declared).update(enabled=False)
