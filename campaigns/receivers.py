"""What campaigns does when leads tells it something happened to a lead."""

from django.dispatch import receiver

from leads.models import Lead
from leads.signals import lead_stopped

from .models import OutboundAction


@receiver(lead_stopped, sender=Lead, dispatch_uid="campaigns.cancel_waiting_actions")
def cancel_waiting_actions(*, lead: Lead, reason: str, staff_replies_too: bool, **kwargs) -> None:
    # Waiting retries too: a failed action must not come back after a reply.
    waiting = OutboundAction.objects.filter(lead=lead, status__in=OutboundAction.WAITING_STATUSES)
    if not staff_replies_too:
        waiting = waiting.filter(step__isnull=False)
    waiting.update(status=OutboundAction.Status.CANCELLED, last_error=reason)
