"""Beat tasks of the engine. Each is also a management command (plan_queue, send_queue, withdraw_stale_invitations)."""

import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from outreach.jobs import run_for_accounts

from .engine import sync
from .engine.invitations import withdraw_stale_invitations
from .engine.planner import plan_due
from .engine.sender import accounts_with_work, send_for_account

logger = logging.getLogger("outreach.engine")


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def plan_queue():
    result = plan_due()
    logger.info("plan tick: %s", result)


@shared_task(ignore_result=True, soft_time_limit=30, time_limit=40)
def send_queue():
    """Fans out one task per account that has work; each sends at most one action."""
    account_ids = accounts_with_work(timezone.now())
    for account_id in account_ids:
        transaction.on_commit(lambda pk=account_id: send_account.delay(pk))
    logger.info("send tick: %d account(s) with work", len(account_ids))


@shared_task(ignore_result=True, soft_time_limit=120, time_limit=150)
def send_account(account_id: int):
    send_for_account(account_id=account_id)


@shared_task(ignore_result=True, soft_time_limit=600, time_limit=660)
def withdraw_stale():
    result = withdraw_stale_invitations()
    logger.info(
        "stale invitations: withdrawn %d, failed %d, skipped %d", result.withdrawn, result.failed, result.skipped
    )


@shared_task(ignore_result=True, soft_time_limit=1200, time_limit=1260)
def sync_relations():
    run_for_accounts(sync.sync_relations, name="sync_relations")


@shared_task(ignore_result=True, soft_time_limit=1200, time_limit=1260)
def sync_invitations():
    run_for_accounts(sync.sync_invitations, name="sync_invitations")


@shared_task(ignore_result=True, soft_time_limit=120, time_limit=150)
def complete_finished_campaigns():
    from .services import campaigns_complete_finished

    campaigns_complete_finished()


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def run_lead_sources():
    """One page of every due lead source (each source waits its own jittered pause between pages)."""
    from .sources import due_sources, lead_source_run

    for source_id in due_sources(timezone.now()):
        lead_source_run(source_id=source_id)
