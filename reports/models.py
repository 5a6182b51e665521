from django.db import models
from django.utils import timezone


class ReportDelivery(models.Model):
    """One email of a kind for a client and period, sent once: the unique key stops a second send."""

    class Kind(models.TextChoices):
        WEEKLY = "weekly", "Weekly report"
        REPLY_DIGEST = "reply_digest", "Reply notification"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        STORED = "stored", "Stored (no mailer configured)"
        RETRYING = "retrying", "Failed, will retry"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (no recipients)"

    client = models.ForeignKey("outreach.Client", on_delete=models.CASCADE, related_name="report_deliveries")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    period = models.CharField(
        max_length=40, help_text="The ISO week reported (2026-W47), or the digest's last message."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    subject = models.CharField(max_length=300, blank=True)
    html = models.TextField(blank=True, help_text="As rendered for the first recipient.")
    text = models.TextField(blank=True)
    recipients = models.JSONField(default=list, blank=True)
    sent_to = models.JSONField(default=dict, blank=True, help_text="recipient -> provider email id")
    outcomes = models.JSONField(default=dict, blank=True, help_text="recipient -> delivered, bounced or complained")
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "report deliveries"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "kind", "period"], name="reportdelivery_unique_client_kind_period"
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="reportdelivery_status")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.period} for {self.client}"


class ReportOptOut(models.Model):
    """An address that gets no more report emails from a client: unsubscribed, bounced or complained."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        BOUNCED = "bounced", "Bounced"
        COMPLAINED = "complained", "Marked as spam"

    client = models.ForeignKey("outreach.Client", on_delete=models.CASCADE, related_name="report_opt_outs")
    email = models.EmailField()
    reason = models.CharField(max_length=20, choices=Reason.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "report opt-out"
        constraints = [models.UniqueConstraint(fields=["client", "email"], name="reportoptout_unique_client_email")]

    def __str__(self):
        return f"{self.email} ({self.get_reason_display()})"
