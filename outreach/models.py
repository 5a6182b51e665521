import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils import timezone as tz
from timezone_field import TimeZoneField


def parse_email_list(value: str) -> list[str]:
    """Split a comma, semicolon or newline separated list of addresses; raise naming the bad one."""
    emails = []
    for part in value.replace(";", ",").replace("\n", ",").split(","):
        address = part.strip()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(f"{address!r} is not a valid email address.") from None
        emails.append(address.lower())
    return emails


def validate_email_list(value: str) -> None:
    parse_email_list(value)


HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def validate_hex_colour(value: str) -> None:
    if value and not HEX_COLOUR.match(value):
        raise ValidationError(f"{value!r} is not a colour like #0f766e.")


def validate_https_url(value: str) -> None:
    if value and not value.lower().startswith("https://"):
        raise ValidationError("Use an https:// address: emails and pages load it from there.")


class Brand(models.Model):
    """The agency's own brand, set once (one row): its name, logo and colours on the login page, the portal and
    pages, and the emails (weekly reports, reply digests), and the sender name of those emails."""

    name = models.CharField("agency name", max_length=100, default="Outreach")
    logo_url = models.URLField("logo URL", max_length=500, blank=True, validators=[validate_https_url])
    colour = models.CharField(max_length=7, default="#2563eb", validators=[validate_hex_colour])
    sender_name = models.CharField(
        "email sender name", max_length=100, blank=True, help_text="The name emails come from; the agency's by default."
    )
    show_powered_by = models.BooleanField(
        '"by Outreach" in emails', default=False, help_text="Off: emails and pages name only the agency."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "agency brand"

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.pk = 1  # one brand per installation
        super().save(*args, **kwargs)

    @classmethod
    def load(cls) -> "Brand":
        brand = cls.objects.filter(pk=1).first()
        return brand if brand is not None else cls()


class Client(models.Model):
    """An agency's customer: owns sender accounts, campaigns and their leads."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    timezone = TimeZoneField(default="UTC", help_text="Reports and 'today' are computed in this timezone.")
    report_recipients = models.TextField(
        blank=True,
        validators=[validate_email_list],
        help_text="Addresses for the weekly report, one per line or comma separated.",
    )
    weekly_reports_enabled = models.BooleanField("weekly reports", default=True)
    reply_notifications_enabled = models.BooleanField("reply notifications", default=False)
    notification_recipients = models.TextField(
        blank=True,
        validators=[validate_email_list],
        help_text="Who is emailed when prospects reply (batched into a digest), one per line or comma separated.",
    )
    brand_name = models.CharField(
        "brand name", max_length=100, blank=True, help_text="Shown to this client instead of the agency's name."
    )
    brand_logo_url = models.URLField(
        "brand logo URL",
        max_length=500,
        blank=True,
        validators=[validate_https_url],
        help_text="https, shown at 32 px.",
    )
    brand_colour = models.CharField(
        "brand colour", max_length=7, blank=True, validators=[validate_hex_colour], help_text="e.g. #0f766e"
    )
    max_leads_per_source = models.PositiveIntegerField(
        "leads per LinkedIn source at most",
        default=2500,
        help_text="The most leads one LinkedIn search, list or post may bring into a campaign of this client.",
    )
    created_at = models.DateTimeField(default=tz.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def report_recipient_list(self) -> list[str]:
        return parse_email_list(self.report_recipients)

    @property
    def notification_recipient_list(self) -> list[str]:
        return parse_email_list(self.notification_recipients)


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        AGENT = "agent", "Agent"
        VIEWER = "viewer", "Viewer"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(default=tz.now, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "client"], name="membership_unique_user_client")]

    def __str__(self):
        return f"{self.user} in {self.client} ({self.get_role_display()})"


class Heartbeat(models.Model):
    """Last time a background process proved it was alive; shown by /healthz."""

    name = models.CharField(max_length=50, unique=True)
    last_seen = models.DateTimeField()

    def __str__(self):
        return f"{self.name} at {self.last_seen:%Y-%m-%d %H:%M:%S}"


class IdempotencyKey(models.Model):
    """A POST made with an Idempotency-Key header, and the response it got, kept for 24 hours."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of method, path, query and body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty while in progress.")
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=tz.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]

    def __str__(self):
        return f"{self.key} ({self.status_code or 'in progress'})"


class ApiTokenQuerySet(models.QuerySet):
    def active(self, now=None):
        now = now or tz.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """An API key, stored as its SHA-256 digest: the key itself is shown once, when it is issued.

    The first characters (`prefix`) are kept in clear so operators can tell tokens apart and find the
    one a client sends. A user may hold several (one per integration); each is revoked on its own.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True, help_text="What the token is for, e.g. 'HubSpot sync'.")
    prefix = models.CharField(max_length=12, db_index=True, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=tz.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: the token never expires.")
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.prefix}… ({self.name or self.user})"

    @property
    def state(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.expires_at and self.expires_at <= tz.now():
            return "expired"
        return "active"


class ThrottleWindow(models.Model):
    """A request counter for one client and one time window, where the cache is not Redis.

    The count moves by conditional UPDATEs only (`count < limit`), so concurrent requests can never
    pass the limit between a read and a write.
    """

    key = models.CharField(max_length=200, primary_key=True)
    window_end = models.BigIntegerField(help_text="Unix time at which the window ends; identifies the window.")
    count = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.key}: {self.count} until {self.window_end}"
