"""State of the fake LinkedIn behind the sandbox: accounts, members, invitations, relations,
chats and messages (what reached each person), webhooks and their delivery outbox."""

from django.db import models
from django.utils import timezone


class SandboxSettings(models.Model):
    """One row: how the simulated people and the simulated provider behave."""

    seed = models.IntegerField(default=42, help_text="The same seed and the same calls give the same run.")
    speed_factor = models.FloatField(
        default=60.0, help_text="Simulated minutes per real minute; 60 makes an hour a minute."
    )
    accept_probability = models.FloatField(default=0.6)
    accept_delay_min_minutes = models.PositiveIntegerField(default=30)
    accept_delay_max_minutes = models.PositiveIntegerField(default=300)
    reply_probability = models.FloatField(default=0.35)
    reply_delay_min_minutes = models.PositiveIntegerField(default=10)
    reply_delay_max_minutes = models.PositiveIntegerField(default=180)
    rate_429 = models.FloatField(
        "429 rate", default=0.0, help_text="Share of write calls answered 429 too_many_requests."
    )
    rate_limit_burst_seconds = models.FloatField(
        "429 burst (seconds)",
        default=0.0,
        help_text="After a 429, the same account's write calls are answered 429 for this long, as LinkedIn does.",
    )
    rate_500 = models.FloatField("500 rate", default=0.0, help_text="Share of write calls answered 500 before acting.")
    rate_500_after_effect = models.FloatField(
        "500-after-acting rate",
        default=0.0,
        help_text="Share of write calls that act, then answer 500 (the ambiguous case).",
    )
    rate_timeout = models.FloatField(default=0.0, help_text="Share of write calls that act, then answer too late.")
    timeout_seconds = models.FloatField(default=35.0)
    rate_cannot_resend_yet = models.FloatField(default=0.0)
    rate_invalid_recipient = models.FloatField(default=0.0)
    rate_duplicate_webhook = models.FloatField(
        default=0.0, help_text="Share of webhook events delivered twice, as Unipile sometimes does."
    )
    webhook_jitter_seconds = models.FloatField(
        default=0.0,
        help_text="Each webhook waits up to this long before its first attempt: events arrive out of order.",
    )
    daily_invite_limit = models.PositiveIntegerField(default=100)
    weekly_invite_limit = models.PositiveIntegerField(default=200)
    daily_message_limit = models.PositiveIntegerField(default=150)
    daily_visit_limit = models.PositiveIntegerField(default=100)
    calls = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "sandbox settings"

    def __str__(self):
        return "Sandbox settings"

    @classmethod
    def load(cls) -> "SandboxSettings":
        return cls.objects.get_or_create(pk=1)[0]


class SandboxAccount(models.Model):
    account_id = models.CharField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    provider_id = models.CharField(max_length=100, unique=True)
    feature = models.CharField(
        max_length=20, default="classic", help_text="classic, sales_navigator or recruiter (its premium feature)."
    )
    premium = models.BooleanField(default=True, help_text="A free account has shorter notes and fewer invitations.")
    inmail_credits = models.IntegerField(
        null=True, blank=True, default=20, help_text="Empty: the balance call answers 404, as an unconfirmed call may."
    )
    status = models.CharField(max_length=20, default="OK")
    rate_limited_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.name} ({self.account_id})"


class SandboxRateLimit(models.Model):
    """Every 429 the sandbox answered: the soak checks that nothing was sent from the account right after."""

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="rate_limits")
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "sandbox rate limit"

    def __str__(self):
        return f"429 to {self.account} at {self.at:%H:%M:%S}"


class SandboxMember(models.Model):
    provider_id = models.CharField(max_length=100, unique=True)
    public_identifier = models.CharField(max_length=100, unique=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    headline = models.CharField(max_length=300, blank=True)
    location = models.CharField(max_length=100, blank=True)
    can_send_inmail = models.BooleanField(default=True)

    def __str__(self):
        return f"{self.first_name} {self.last_name}"


class SandboxInvitation(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING"
        ACCEPTED = "ACCEPTED"
        WITHDRAWN = "WITHDRAWN"

    id = models.CharField(primary_key=True, max_length=40)
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="invitations")
    member = models.ForeignKey(SandboxMember, on_delete=models.CASCADE, related_name="invitations")
    message = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    decide_at = models.DateTimeField(null=True, blank=True, help_text="When the person accepts; empty: never.")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "decide_at"])]

    def __str__(self):
        return f"{self.id} ({self.status})"


class SandboxRelation(models.Model):
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="relations")
    member = models.ForeignKey(SandboxMember, on_delete=models.CASCADE, related_name="relations")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "member"], name="sandbox_relation_unique")]

    def __str__(self):
        return f"{self.account_id} - {self.member_id}"


class SandboxChat(models.Model):
    id = models.CharField(primary_key=True, max_length=40)
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="chats")
    member = models.ForeignKey(SandboxMember, on_delete=models.CASCADE, related_name="chats")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "member"], name="sandbox_chat_unique")]

    def __str__(self):
        return self.id


class SandboxMessage(models.Model):
    id = models.CharField(primary_key=True, max_length=40)
    chat = models.ForeignKey(SandboxChat, on_delete=models.CASCADE, related_name="messages")
    text = models.TextField()
    is_sender = models.BooleanField(help_text="Sent by the account (true) or by the person (false).")
    message_type = models.CharField(max_length=10, default="MESSAGE")
    created_at = models.DateTimeField(default=timezone.now)
    reply_due_at = models.DateTimeField(null=True, blank=True, help_text="When the person answers this message.")

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["reply_due_at"]), models.Index(fields=["created_at"])]

    def __str__(self):
        return self.id


class SandboxWebhook(models.Model):
    id = models.CharField(primary_key=True, max_length=40)
    source = models.CharField(max_length=20)
    request_url = models.URLField(max_length=500)
    name = models.CharField(max_length=200, blank=True)
    headers = models.JSONField(default=list)
    events = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.source} -> {self.request_url}"


class SandboxDelivery(models.Model):
    """A webhook call to make, retried with growing delays as Unipile does."""

    webhook = models.ForeignKey(SandboxWebhook, on_delete=models.CASCADE, related_name="deliveries")
    payload = models.JSONField()
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    gave_up = models.BooleanField(default=False)
    last_result = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name_plural = "sandbox deliveries"
        indexes = [models.Index(fields=["delivered_at", "gave_up", "next_attempt_at"])]

    def __str__(self):
        return f"delivery {self.pk} to {self.webhook_id}"


class SandboxHostedLink(models.Model):
    """A hosted-auth link handed out by POST /hosted/accounts/link: its page logs a simulated person in and
    calls the notify URL, as Unipile's does."""

    id = models.CharField(primary_key=True, max_length=40)
    type = models.CharField(max_length=10, default="create")
    name = models.CharField(max_length=300)
    notify_url = models.URLField(max_length=500)
    success_redirect_url = models.URLField(max_length=500, blank=True)
    failure_redirect_url = models.URLField(max_length=500, blank=True)
    reconnect_account = models.CharField(max_length=100, blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    notify_result = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "sandbox hosted-auth link"

    def __str__(self):
        return f"{self.type} link {self.id}"


class SandboxEngagement(models.Model):
    """A follow, a like or an endorsement an account gave a member (doing it again changes nothing)."""

    class Kind(models.TextChoices):
        FOLLOW = "follow", "Follow"
        LIKE = "like", "Like"
        ENDORSE = "endorse", "Endorsement"

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="engagements")
    member = models.ForeignKey(SandboxMember, on_delete=models.CASCADE, related_name="engagements")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    target = models.CharField(max_length=100, blank=True, help_text="The post liked or the skill endorsed.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "member", "kind", "target"], name="sandbox_engagement_unique")
        ]

    def __str__(self):
        return f"{self.account} {self.kind} {self.member} {self.target}".strip()
