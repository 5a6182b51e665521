from celery import shared_task
from django.utils import timezone

from .models import Heartbeat


@shared_task(ignore_result=True, soft_time_limit=20, time_limit=30)
def heartbeat():
    """Proves beat and a worker are running: /healthz shows how long ago this last ran."""
    Heartbeat.objects.update_or_create(name="worker", defaults={"last_seen": timezone.now()})


@shared_task(ignore_result=True)
def purge_idempotency_keys():
    """Idempotency keys are replayed for 24 hours; older ones go, with the throttle's ended windows."""
    from .api.idempotency import purge_expired
    from .ratelimit import purge_windows

    purge_windows()
    return purge_expired()
