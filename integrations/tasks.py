import time

from celery import shared_task

from . import webhooks

DRAIN_BUDGET_SECONDS = 45


@shared_task(ignore_result=True, soft_time_limit=55, time_limit=60)
def process_pending_webhooks():
    """Process every received delivery, oldest first, until none is left (or the time budget is spent)."""
    started = time.monotonic()
    while time.monotonic() - started < DRAIN_BUDGET_SECONDS:
        if not webhooks.process_pending(limit=200):
            return


_last_kick = {"second": 0}


def kick_processing():
    """At most one drain task published per second and web process: publishing per delivery would cost
    more than storing it. Beat also sweeps every 30 s, so a delivery never waits long for a kick."""
    second = int(time.time())
    if _last_kick["second"] != second:
        _last_kick["second"] = second
        process_pending_webhooks.delay()
