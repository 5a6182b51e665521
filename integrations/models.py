import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone as tz
from timezone_field import TimeZoneField


class ActionKind(models.TextChoices):
    """Kinds of LinkedIn action that count against an account's limits."""

    INVITE = "invite", "Invitation"
    MESSAGE = "message", "Message"
    INMAIL = "inmail", "InMail"
    VISIT = "visit", "Profile visit"
    READ = "read", "Profile read (lead sourcing)"
    FOLLOW = "follow", "Follow"
    LIKE = "like", "Post like"
    ENDORSE = "endorse", "Skill endorsement"
    WITHDRAW = "withdraw", "Invitation withdrawal"


class LinkedInAccount(models.Model):
    class Kind(models.TextChoices):
        CLASSIC = "classic", "Classic"
        SALES_NAVIGATOR = "sales_navigator", "Sales Navigator"
        RECRUITER = "recruiter", "Recruiter"

    class Status(models.TextChoices):
        OK = "OK", "OK"
        CREDENTIALS = "CREDENTIALS", "Credentials needed"
        ERROR = "ERROR", "Error"
        STOPPED = "STOPPED", "Stopped"
        CONNECTING = "CONNECTING", "Connecting"
        DELETED = "DELETED", "Deleted"
        CREATION_SUCCESS = "CREATION_SUCCESS", "Created"
        RECONNECTED = "RECONNECTED", "Reconnected"
        SYNC_SUCCESS = "SYNC_SUCCESS", "Synced"
        CHECKPOINT = "CHECKPOINT", "Checkpoint (LinkedIn asks the owner to confirm)"

    # Statuses in which Unipile can act for the account.
    WORKING_STATUSES = {Status.OK, Status.RECONNECTED, Status.SYNC_SUCCESS, Status.CREATION_SUCCESS}
    # Statuses that the account's owner fixes by logging in again through a reconnect link.
    RECONNECT_STATUSES = {Status.CREDENTIALS, Status.ERROR, Status.CHECKPOINT, Status.STOPPED}

    class PauseSource(models.TextChoices):
        OPERATOR = "operator", "Operator"
        STATUS = "status", "Account status"
        PROVIDER = "provider", "Provider limit"

    client = models.ForeignKey("outreach.Client", on_delete=models.PROTECT, related_name="linkedin_accounts")
    name = models.CharField(max_length=200, help_text="The person whose LinkedIn account this is.")
    unipile_account_id = models.CharField("Unipile account id", max_length=100, unique=True)
    provider_id = models.CharField(
        "own provider id", max_length=100, blank=True, help_text="The account's own LinkedIn member id (ACo…)."
    )
    kind = models.CharField(
        max_length=20, choices=Kind.choices, default=Kind.CLASSIC, help_text="Read from Unipile when it says."
    )
    is_premium = models.BooleanField(
        "premium", null=True, blank=True, editable=False, help_text="Read from Unipile; empty while unknown."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CONNECTING)
    timezone = TimeZoneField(
        blank=True, null=True, help_text="Whose calendar day the daily caps follow; the client's timezone when empty."
    )

    paused = models.BooleanField(default=False)
    paused_reason = models.CharField(max_length=300, blank=True)
    pause_source = models.CharField(max_length=10, choices=PauseSource.choices, blank=True)
    paused_until = models.DateTimeField(null=True, blank=True, help_text="Resumes by itself after this time.")

    daily_invite_limit = models.PositiveSmallIntegerField(
        "invites per day", default=25, validators=[MaxValueValidator(200)]
    )
    weekly_invite_limit = models.PositiveSmallIntegerField(
        "invites per week", default=100, validators=[MaxValueValidator(500)]
    )
    daily_message_limit = models.PositiveSmallIntegerField(
        "messages per day", default=100, validators=[MaxValueValidator(300)]
    )
    daily_visit_limit = models.PositiveSmallIntegerField(
        "profile visits per day", default=80, validators=[MaxValueValidator(300)]
    )
    daily_inmail_limit = models.PositiveSmallIntegerField(
        "InMails per day", default=30, validators=[MaxValueValidator(100)]
    )
    daily_follow_limit = models.PositiveSmallIntegerField(
        "follows per day", default=25, validators=[MaxValueValidator(200)]
    )
    daily_like_limit = models.PositiveSmallIntegerField(
        "post likes per day", default=30, validators=[MaxValueValidator(200)]
    )
    daily_endorse_limit = models.PositiveSmallIntegerField(
        "skill endorsements per day", default=15, validators=[MaxValueValidator(100)]
    )
    daily_withdraw_limit = models.PositiveSmallIntegerField(
        "invitation withdrawals per day", default=40, validators=[MaxValueValidator(200)]
    )
    daily_read_limit = models.PositiveSmallIntegerField(
        "profile reads per day",
        null=True,
        blank=True,
        validators=[MaxValueValidator(2500)],
        help_text="Search pages and profiles read for lead sourcing (each person counts). Empty: "
        "80 for classic accounts, 300 with Sales Navigator or Recruiter (settings READ_LIMIT_*).",
    )
    max_pending_invitations = models.PositiveSmallIntegerField(
        "pending invitations at most",
        default=500,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="No new invitation while this many are pending (Unipile's guidance); stale ones are withdrawn.",
    )
    min_seconds_between_actions = models.PositiveIntegerField(
        default=120,
        validators=[MinValueValidator(10)],
        help_text="Spacing between two actions; random jitter is added.",
    )
    warmup_started_on = models.DateField(
        null=True, blank=True, help_text="New accounts ramp up their daily limits from this day on."
    )
    # A 429 is about the account: nothing is sent from it before cooldown_until. rate_limit_strikes climbs the
    # cool-down ladder (settings.RATE_LIMIT_COOLDOWN_MINUTES) and starts again after a clean hour.
    cooldown_until = models.DateTimeField(
        "cooling down until", null=True, blank=True, editable=False, help_text="No action before this time (429)."
    )
    rate_limit_strikes = models.PositiveSmallIntegerField(default=0, editable=False)
    rate_limited_at = models.DateTimeField("last rate limit", null=True, blank=True, editable=False)
    # When the status in force was reported (the status event's own time, else its arrival): older events lose.
    status_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set when the account stops working for a reason its owner must fix; one email goes out per such period.
    disconnected_since = models.DateTimeField(null=True, blank=True, editable=False)
    # InMail credits as Unipile last told them; None: unknown (the call is not confirmed for every account).
    inmail_credits = models.IntegerField("InMail credits", null=True, blank=True, editable=False)
    inmail_credits_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_action_at = models.DateTimeField(null=True, blank=True, editable=False)
    next_action_after = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="Spacing: no action before this time (minimum gap plus jitter).",
    )
    created_at = models.DateTimeField(default=tz.now, editable=False)

    class Meta:
        verbose_name = "LinkedIn account"
        ordering = ["client__name", "name"]
        indexes = [models.Index(fields=["status", "paused"])]

    def __str__(self):
        return self.name

    @property
    def calendar_tz(self):
        return self.timezone or self.client.timezone

    def today(self, now: dt.datetime | None = None) -> dt.date:
        """The account's own calendar day: caps reset at its local midnight."""
        return tz.localtime(now or tz.now(), self.calendar_tz).date()

    def daily_limit(self, kind: str) -> int:
        return {
            ActionKind.INVITE: self.daily_invite_limit,
            ActionKind.MESSAGE: self.daily_message_limit,
            ActionKind.INMAIL: self.daily_inmail_limit,
            ActionKind.VISIT: self.daily_visit_limit,
            ActionKind.READ: self.read_limit,
            ActionKind.FOLLOW: self.daily_follow_limit,
            ActionKind.LIKE: self.daily_like_limit,
            ActionKind.ENDORSE: self.daily_endorse_limit,
            ActionKind.WITHDRAW: self.daily_withdraw_limit,
        }[kind]

    @property
    def read_limit(self) -> int:
        if self.daily_read_limit is not None:
            return self.daily_read_limit
        return settings.READ_LIMIT_CLASSIC if self.kind == self.Kind.CLASSIC else settings.READ_LIMIT_PREMIUM

    def cap_of_day(self, kind: str, day: dt.date) -> int:
        """Today's cap of a kind: the account's limit, ramped up from its warm-up start (new accounts start low
        and grow each day). The one answer the sender, the planner, the admin, the API and the reports use."""
        cap = self.daily_limit(kind)
        if self.warmup_started_on and day >= self.warmup_started_on:
            days = (day - self.warmup_started_on).days
            cap = min(cap, settings.WARMUP_START_PER_DAY + settings.WARMUP_INCREASE_PER_DAY * days)
        return cap

    @property
    def needs_reconnect(self) -> bool:
        return self.status in self.RECONNECT_STATUSES

    @property
    def invite_note_limit(self) -> int:
        """LinkedIn's limit on an invitation note: free accounts get fewer characters."""
        return settings.FREE_ACCOUNT_NOTE_LIMIT if self.is_premium is False else 300

    @property
    def weekly_invite_cap(self) -> int:
        if self.is_premium is False:
            return min(self.weekly_invite_limit, settings.FREE_ACCOUNT_WEEKLY_INVITES)
        return self.weekly_invite_limit

    @property
    def can_work(self) -> bool:
        return self.status in self.WORKING_STATUSES and not self.paused

    def is_cooling_down(self, now: dt.datetime) -> bool:
        return self.cooldown_until is not None and self.cooldown_until > now


class RateUsage(models.Model):
    """Actions claimed per account and calendar day: the single truth for caps.

    Counters are incremented in the same transaction that claims an action, with a
    conditional UPDATE, so caps hold with many workers.
    """

    account = models.ForeignKey(LinkedInAccount, on_delete=models.CASCADE, related_name="rate_usages")
    day = models.DateField()
    invites = models.PositiveIntegerField(default=0)
    messages = models.PositiveIntegerField(default=0)
    inmails = models.PositiveIntegerField(default=0)
    visits = models.PositiveIntegerField(default=0)
    reads = models.PositiveIntegerField(default=0)
    follows = models.PositiveIntegerField(default=0)
    likes = models.PositiveIntegerField(default=0)
    endorsements = models.PositiveIntegerField(default=0)
    withdrawals = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    COUNTER_FOR_KIND = {
        ActionKind.INVITE: "invites",
        ActionKind.MESSAGE: "messages",
        ActionKind.INMAIL: "inmails",
        ActionKind.VISIT: "visits",
        ActionKind.READ: "reads",
        ActionKind.FOLLOW: "follows",
        ActionKind.LIKE: "likes",
        ActionKind.ENDORSE: "endorsements",
        ActionKind.WITHDRAW: "withdrawals",
    }

    class Meta:
        verbose_name = "rate usage"
        ordering = ["-day", "account__name"]
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="rateusage_unique_account_day")]
        indexes = [models.Index(fields=["day"])]

    def __str__(self):
        return f"{self.account} on {self.day}"


class WebhookDelivery(models.Model):
    """Every inbound delivery, stored before we answer."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored"
        FAILED = "failed", "Failed"

    source = models.CharField(max_length=30)
    event = models.CharField(max_length=60, blank=True)
    account_id = models.CharField("Unipile account id", max_length=100, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    body = models.TextField(blank=True)
    dedupe_key = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    received_at = models.DateTimeField(default=tz.now, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "dedupe_key"], condition=~models.Q(dedupe_key=""), name="webhook_unique_dedupe_key"
            )
        ]
        indexes = [models.Index(fields=["status", "received_at"])]

    def __str__(self):
        return f"{self.source}/{self.event or '?'} at {self.received_at:%Y-%m-%d %H:%M:%S}"


class SyncState(models.Model):
    """Per account and reconciliation job: where it got to (cursor) and what its last run did."""

    class Job(models.TextChoices):
        RELATIONS = "relations", "Relation sync"
        REPLIES = "replies", "Reply polling"
        INVITATIONS = "invitations", "Invitation sync"

    account = models.ForeignKey(LinkedInAccount, on_delete=models.CASCADE, related_name="sync_states")
    job = models.CharField(max_length=20, choices=Job.choices)
    cursor = models.DateTimeField(null=True, blank=True, help_text="Everything before this is processed.")
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_result = models.CharField(max_length=300, blank=True)
    last_ok = models.BooleanField(default=True)

    class Meta:
        verbose_name = "sync state"
        constraints = [models.UniqueConstraint(fields=["account", "job"], name="syncstate_unique_account_job")]

    def __str__(self):
        return f"{self.get_job_display()} of {self.account}"


class AccountStatusChange(models.Model):
    """Every status an account went through, whoever reported it: the health page's history."""

    class Source(models.TextChoices):
        WEBHOOK = "webhook", "Unipile webhook"
        SYNC = "sync", "Account sync"
        SEND = "send", "A failing call"
        CONNECT = "connect", "Hosted auth"
        OPERATOR = "operator", "Operator"

    account = models.ForeignKey(LinkedInAccount, on_delete=models.CASCADE, related_name="status_changes")
    status = models.CharField(max_length=20, choices=LinkedInAccount.Status.choices)
    previous = models.CharField(max_length=20, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices)
    detail = models.CharField(max_length=300, blank=True)
    occurred_at = models.DateTimeField(default=tz.now)

    class Meta:
        verbose_name = "account status change"
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["account", "-occurred_at"], name="status_change_account_time")]

    def __str__(self):
        return f"{self.account}: {self.previous or '—'} → {self.status}"


class HostedAuthLink(models.Model):
    """A Unipile hosted-auth link we asked for: to connect a new account for a client, or reconnect one.

    Unipile echoes `name` to our notify URL without any signature; it carries this row's public id and a random
    secret of which only the digest is stored. The notify call is accepted once, before the expiry, and only
    for what the link was made for."""

    class Kind(models.TextChoices):
        CREATE = "create", "Connect a new account"
        RECONNECT = "reconnect", "Reconnect"

    public_id = models.CharField(max_length=32, unique=True, editable=False)
    secret_digest = models.CharField(max_length=64, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    client = models.ForeignKey("outreach.Client", on_delete=models.CASCADE, related_name="hosted_auth_links")
    account = models.ForeignKey(
        LinkedInAccount, null=True, blank=True, on_delete=models.CASCADE, related_name="hosted_auth_links"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    url = models.URLField(max_length=2000)
    created_at = models.DateTimeField(default=tz.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    result = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = "hosted auth link"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.account or self.client} ({self.public_id})"

    def is_expired(self, now=None) -> bool:
        return (now or tz.now()) >= self.expires_at


class AccountNotice(models.Model):
    """An email about an account (a disconnection), one per account and period: the constraint dedupes it."""

    class Kind(models.TextChoices):
        DISCONNECTED = "disconnected", "Disconnected"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        STORED = "stored", "Stored (no mailer configured)"
        FAILED = "failed", "Failed"

    account = models.ForeignKey(LinkedInAccount, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    period_start = models.DateTimeField(help_text="When the account stopped working.")
    recipients = models.TextField(blank=True)
    subject = models.CharField(max_length=300, blank=True)
    text = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=tz.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "account notice"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["account", "kind", "period_start"], name="account_notice_unique_period")
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.account} since {self.period_start:%Y-%m-%d %H:%M}"


class WebhookEndpoint(models.Model):
    """A client's subscription to our events: signed deliveries (Standard Webhooks) to its URL."""

    client = models.ForeignKey("outreach.Client", on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField("URL", max_length=2000, help_text="https:// and a public address.")
    description = models.CharField(max_length=300, blank=True)
    events = models.JSONField(default=list, blank=True, help_text="Event types to send; empty: every event.")
    enabled = models.BooleanField(default=True)
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    disabled_reason = models.CharField(max_length=300, blank=True, editable=False)
    created_at = models.DateTimeField(default=tz.now, editable=False)

    class Meta:
        verbose_name = "webhook endpoint"
        ordering = ["client__name", "url"]

    def __str__(self):
        return f"{self.url} ({self.client})"

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events or event_type == "ping"

    def signing_secrets(self, now) -> list[str]:
        """The secret, and during a rotation the previous one too: receivers accept either for 24 hours."""
        secrets = [self.secret]
        if self.previous_secret and self.previous_secret_expires_at and self.previous_secret_expires_at > now:
            secrets.append(self.previous_secret)
        return secrets


class OutboxEvent(models.Model):
    """An event for the outside world, written in the same transaction as the change it reports."""

    public_id = models.CharField(max_length=40, unique=True, editable=False, help_text="The webhook-id header.")
    client = models.ForeignKey("outreach.Client", on_delete=models.CASCADE, related_name="outbox_events")
    type = models.CharField(max_length=40)
    lead_id = models.BigIntegerField(null=True, blank=True, help_text="Events of one lead go out in order.")
    payload = models.JSONField()
    created_at = models.DateTimeField(default=tz.now, db_index=True)

    class Meta:
        verbose_name = "outbox event"
        ordering = ["-id"]

    def __str__(self):
        return f"{self.type} {self.public_id}"


class EventDelivery(models.Model):
    """One event to one endpoint: retried with backoff until delivered or given up; the delivery log."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (gave up)"
        CANCELLED = "cancelled", "Cancelled (endpoint disabled)"

    OPEN_STATUSES = (Status.PENDING, Status.SENDING)

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    order_key = models.CharField(max_length=40, blank=True, help_text="The lead: its deliveries go in order.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=tz.now)
    lease_until = models.DateTimeField(null=True, blank=True, help_text="A worker is sending it until then.")
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_latency_ms = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    created_at = models.DateTimeField(default=tz.now, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "event delivery"
        verbose_name_plural = "event deliveries"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="eventdelivery_due"),
            models.Index(
                fields=["endpoint", "order_key", "id"],
                condition=models.Q(status__in=["pending", "sending"]),
                name="eventdelivery_open_in_order",
            ),
        ]

    def __str__(self):
        return f"{self.event} to {self.endpoint_id} ({self.status})"
