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


@shared_task(bind=True, ignore_result=True, soft_time_limit=60, time_limit=90, max_retries=6)
def send_account_notice(self, notice_id: int):
    from .mailer import MailError
    from .notices import account_notice_send

    try:
        account_notice_send(notice_id=notice_id)
    except MailError as exc:
        raise self.retry(countdown=min(60 * 2**self.request.retries, 3600), exc=exc) from None


@shared_task(ignore_result=True, soft_time_limit=240, time_limit=300)
def sync_accounts():
    """Status, own id, kind and premium of every account from Unipile (a few times a day, irregularly)."""
    from .services import account_sync, accounts_to_sync

    accounts = accounts_to_sync()
    if accounts:
        account_sync(accounts=accounts)


OUTBOUND_BUDGET_SECONDS = 45


@shared_task(ignore_result=True, soft_time_limit=55, time_limit=60)
def dispatch_outbound_webhooks():
    """Send due outbound webhook deliveries until none is left (or the time budget is spent)."""
    from .outbound import dispatch

    started = time.monotonic()
    while time.monotonic() - started < OUTBOUND_BUDGET_SECONDS:
        if not dispatch(limit=200).ids:
            return


_last_outbound_kick = {"second": 0}


def kick_outbound():
    """After a commit that wrote events: a dispatch soon (at most one publish per second and process; beat
    sweeps every 10 s as well)."""
    second = int(time.time())
    if _last_outbound_kick["second"] != second:
        _last_outbound_kick["second"] = second
        dispatch_outbound_webhooks.delay()
