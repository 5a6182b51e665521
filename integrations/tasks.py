from celery import shared_task

from . import webhooks


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=60, time_limit=90)
def process_webhook(delivery_id: int):
    webhooks.process(delivery_id)
