import pytest
from django_celery_beat.models import PeriodicTask

from outreach.beat import sync_periodic_tasks

pytestmark = pytest.mark.django_db


def test_declared_jobs_are_registered_and_stale_ones_disabled(settings):
    settings.OUTREACH_PERIODIC_TASKS = {
        "a job": ("outreach.tasks.heartbeat", 60),
        "b job": ("outreach.tasks.heartbeat", 300),
    }
    sync_periodic_tasks()
    sync_periodic_tasks()  # idempotent
    jobs = {t.name: t for t in PeriodicTask.objects.all()}
    assert jobs["a job"].interval.every == 60 and jobs["b job"].interval.every == 300 and jobs["b job"].enabled

    PeriodicTask.objects.create(name="hand made", task="x.y", interval=jobs["a job"].interval)
    settings.OUTREACH_PERIODIC_TASKS = {"a job": ("outreach.tasks.heartbeat", 120)}
    sync_periodic_tasks()
    jobs = {t.name: t for t in PeriodicTask.objects.all()}
    assert jobs["a job"].interval.every == 120
    assert not jobs["b job"].enabled
    assert jobs["hand made"].enabled  # an operator's own job is left alone


def test_migrate_registers_the_schedule():
    from django.core.management import call_command

    PeriodicTask.objects.all().delete()
    call_command("migrate", verbosity=0)
    assert PeriodicTask.objects.filter(name="outreach: heartbeat", task="outreach.tasks.heartbeat").exists()
