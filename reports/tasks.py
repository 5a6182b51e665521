import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from integrations.mailer import MailError
from outreach.models import Client

from .emails import clients_due, deliver_reply_digest, deliver_weekly

logger = logging.getLogger("outreach.reports")


@shared_task(ignore_result=True, soft_time_limit=120, time_limit=150)
def send_weekly_reports():
    """Hourly: every client whose local Monday 08:00 has passed gets last week's report, once."""
    due = clients_due(timezone.now())
    for client, week in due:
        transaction.on_commit(lambda pk=client.pk, w=week: send_weekly_report.delay(pk, w))
    logger.info("weekly reports due: %d", len(due))


@shared_task(
    ignore_result=True,
    autoretry_for=(MailError,),
    retry_backoff=60,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=6,
    soft_time_limit=300,
    time_limit=330,
)
def send_weekly_report(client_id: int, week: str):
    client = Client.objects.filter(pk=client_id).first()
    if client is None:
        return
    delivery = deliver_weekly(client, week)
    if delivery is not None:
        logger.info("weekly report %s for %s: %s", week, client.slug, delivery.status)


@shared_task(ignore_result=True, soft_time_limit=120, time_limit=150)
def send_reply_digests() -> int:
    """Every minute: replies that arrived together go out as one email to the client's notification list.
    Returns how many digests went out."""
    sent = 0
    clients = Client.objects.filter(reply_notifications_enabled=True).exclude(notification_recipients="")
    for client in clients:
        try:
            sent += deliver_reply_digest(client) is not None
        except MailError as exc:  # retried by the next tick: the delivery is left in 'retrying'
            logger.warning("reply digest for %s not sent yet: %s", client.slug, exc)
    return sent
