from celery import shared_task


@shared_task(ignore_result=True, soft_time_limit=50, time_limit=60)
def compact_funnels():
    """Every minute: the reports' count rows written with each event are folded into one row per key."""
    from .funnel import compact

    return compact()
