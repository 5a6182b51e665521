from celery import shared_task

from outreach.jobs import run_for_accounts

from .polling import poll_replies as poll


@shared_task(ignore_result=True, soft_time_limit=600, time_limit=660)
def poll_replies():
    run_for_accounts(poll, name="poll_replies")


@shared_task(ignore_result=True, soft_time_limit=60, time_limit=90)
def wake_snoozed():
    """Snoozed conversations whose time has come are open (and in the list) again."""
    from .services import wake_snoozed as wake

    return wake()
