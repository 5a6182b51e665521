from celery import shared_task

from . import engine


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def sandbox_tick():
    """The simulated people act and the sandbox delivers its webhooks."""
    engine.simulate()
    engine.deliver_webhooks()
