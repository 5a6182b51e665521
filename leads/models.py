from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class LeadStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    INVITED = "invited", "Invited"
    CONNECTED = "connected", "Connected"
    MESSAGED = "messaged", "Messaged"
    REPLIED = "replied", "Replied"
    COMPLETED = "completed", "Completed"
    ERROR = "error", "Error"
    OPTED_OUT = "opted_out", "Opted out"
    WITHDRAWN = "withdrawn", "Invite withdrawn"
    PAUSED = "paused", "Paused"
    DO_NOT_CONTACT = "do_not_contact", "Do not contact"


S = LeadStatus
# Statuses in which the engine works a lead.
ACTIVE_STATUSES = frozenset({S.PENDING, S.INVITED, S.CONNECTED, S.MESSAGED})
# Statuses that a lead may be held in and later resumed from.
HOLD_STATUSES = frozenset({S.PAUSED, S.ERROR})
# Statuses a lead leaves only for opt-out or do-not-contact: the sequence is over, whatever was queued goes.
FINAL_STATUSES = frozenset({S.REPLIED, S.COMPLETED, S.OPTED_OUT, S.WITHDRAWN, S.DO_NOT_CONTACT})

# The life cycle of DESIGN.md. A reply is a fact, so it is accepted from any state in which
# the person could still write to us; an opt-out or do-not-contact can be recorded at any time.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING: frozenset(
        {S.INVITED, S.CONNECTED, S.MESSAGED, S.REPLIED, S.COMPLETED, S.ERROR, S.PAUSED, S.OPTED_OUT, S.DO_NOT_CONTACT}
    ),
    S.INVITED: frozenset(
        {S.PENDING, S.CONNECTED, S.REPLIED, S.COMPLETED, S.WITHDRAWN, S.ERROR, S.PAUSED, S.OPTED_OUT, S.DO_NOT_CONTACT}
    ),
    S.CONNECTED: frozenset({S.MESSAGED, S.REPLIED, S.COMPLETED, S.ERROR, S.PAUSED, S.OPTED_OUT, S.DO_NOT_CONTACT}),
    S.MESSAGED: frozenset({S.REPLIED, S.COMPLETED, S.ERROR, S.PAUSED, S.OPTED_OUT, S.DO_NOT_CONTACT}),
    S.PAUSED: frozenset(
        {S.PENDING, S.INVITED, S.CONNECTED, S.MESSAGED, S.REPLIED, S.ERROR, S.OPTED_OUT, S.DO_NOT_CONTACT}
    ),
    S.ERROR: frozenset(
        {S.PENDING, S.INVITED, S.CONNECTED, S.MESSAGED, S.REPLIED, S.PAUSED, S.OPTED_OUT, S.DO_NOT_CONTACT}
    ),
    S.COMPLETED: frozenset({S.REPLIED, S.OPTED_OUT, S.DO_NOT_CONTACT}),
    S.WITHDRAWN: frozenset({S.REPLIED, S.OPTED_OUT, S.DO_NOT_CONTACT}),
    # An automatic out-of-office answer is not a reply: staff may hold the lead and resume it after the return.
    S.REPLIED: frozenset({S.PAUSED, S.OPTED_OUT, S.DO_NOT_CONTACT}),
    S.OPTED_OUT: frozenset({S.DO_NOT_CONTACT}),
    S.DO_NOT_CONTACT: frozenset(),
}


# A lead's milestones in the order they happen.
MILESTONES = ("invited_at", "connected_at", "replied_at")


class Lead(models.Model):
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="leads")
    source = models.ForeignKey(
        "campaigns.LeadSource",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        editable=False,
        help_text="The LinkedIn search, list or post this lead came from.",
    )
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    company = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=300, blank=True)
    email = models.EmailField(blank=True)
    linkedin_url = models.URLField("LinkedIn URL", max_length=500, blank=True)
    public_identifier = models.CharField(
        max_length=100, blank=True, help_text="The profile slug: linkedin.com/in/<slug>."
    )
    provider_id = models.CharField(max_length=100, blank=True, help_text="LinkedIn member id (ACo…).")
    custom_fields = models.JSONField(default=dict, blank=True)

    status = models.CharField(max_length=20, choices=LeadStatus.choices, default=LeadStatus.PENDING)
    resume_status = models.CharField(
        max_length=20, choices=LeadStatus.choices, blank=True, help_text="Where a paused or errored lead goes back to."
    )
    current_step = models.PositiveSmallIntegerField(
        default=0, help_text="Number of the last step done; 0 before the first."
    )
    step = models.ForeignKey(
        "campaigns.Step",
        null=True,
        blank=True,
        on_delete=models.RESTRICT,
        related_name="leads_here",
        help_text="The step the lead is at: to be done next, or a condition it waits on. Empty before the first "
        "step (and after the last one).",
    )
    resume_at = models.DateTimeField(
        null=True, blank=True, help_text="A lead held after an out-of-office reply goes on with its sequence then."
    )
    condition_until = models.DateTimeField(
        null=True, blank=True, help_text="Waiting on a condition: when its window ends and the no path is taken."
    )
    next_action_at = models.DateTimeField(null=True, blank=True)
    sender = models.ForeignKey(
        "integrations.LinkedInAccount", null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    chat_id = models.CharField(max_length=100, blank=True)
    invited_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "public_identifier"],
                condition=~Q(public_identifier=""),
                name="lead_unique_campaign_public_identifier",
            ),
            models.UniqueConstraint(
                fields=["campaign", "provider_id"],
                condition=~Q(provider_id=""),
                name="lead_unique_campaign_provider_id",
            ),
        ]
        indexes = [
            # The planner reads due leads through this index only.
            models.Index(fields=["status", "next_action_at"], name="lead_status_next_action"),
            models.Index(fields=["provider_id"], name="lead_provider_id"),
            models.Index(fields=["public_identifier"], name="lead_public_identifier"),
            models.Index(fields=["campaign", "status"], name="lead_campaign_status"),
            # An account's pending invitations: the pending-invitation cap is checked before each invitation.
            models.Index(fields=["sender", "invited_at"], condition=Q(status="invited"), name="lead_pending_invites"),
        ]

    def __str__(self):
        return self.full_name or self.public_identifier or self.provider_id or f"Lead {self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def profile_url(self) -> str:
        if self.linkedin_url:
            return self.linkedin_url
        if self.public_identifier:
            return f"https://www.linkedin.com/in/{self.public_identifier}/"
        return ""

    def can_transition_to(self, status: str) -> bool:
        return status in ALLOWED_TRANSITIONS[self.status]

    def milestone_time(self, stamp: str, when):
        """When a milestone (MILESTONES, in order) is recorded: the provider's time, but never before an earlier
        milestone of the lead (a provider clock or a late poll can say a reply came before the invitation)."""
        earlier = [getattr(self, name) for name in MILESTONES[: MILESTONES.index(stamp)]]
        return max([when, *(moment for moment in earlier if moment is not None)])


class EventType(models.TextChoices):
    INVITE_SENT = "invite_sent", "Invitation sent"
    INVITE_WITHDRAWN = "invite_withdrawn", "Invitation withdrawn"
    INVITE_ACCEPTED = "invite_accepted", "Invitation accepted"
    MESSAGE_SENT = "message_sent", "Message sent"
    INMAIL_SENT = "inmail_sent", "InMail sent"
    PROFILE_VISITED = "profile_visited", "Profile visited"
    REPLY_RECEIVED = "reply_received", "Reply received"
    LEAD_STATUS_CHANGED = "lead_status_changed", "Status changed"
    SEND_FAILED = "send_failed", "Send failed"
    LEAD_MOVED = "lead_moved", "Moved to another campaign"
    STEP_SKIPPED = "step_skipped", "Step skipped"
    FOLLOWED = "followed", "Followed"
    POST_LIKED = "post_liked", "Post liked"
    SKILL_ENDORSED = "skill_endorsed", "Skill endorsed"
    CONDITION_DECIDED = "condition_decided", "Condition decided"


# The event types analytics funnels read (status changes and visits, most of the log, are not among them).
FUNNEL_EVENT_TYPES = [
    EventType.INVITE_SENT,
    EventType.INVITE_ACCEPTED,
    EventType.MESSAGE_SENT,
    EventType.INMAIL_SENT,
    EventType.REPLY_RECEIVED,
]


class Event(models.Model):
    """The per-lead event log; analytics are computed from it."""

    lead = models.ForeignKey(Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    # The lead's campaign when the event happened, copied on save: analytics group by it without a join.
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.CASCADE, related_name="events", editable=False
    )
    account = models.ForeignKey(
        "integrations.LinkedInAccount", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    type = models.CharField(max_length=30, choices=EventType.choices)
    occurred_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    # The sequence step (its number) and A/B variant the event belongs to, as columns: reports group by them
    # without reading the JSON. A reply carries the step it answers (the last one sent before it).
    step = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    variant = models.CharField(max_length=1, blank=True, editable=False)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["type", "external_id"], condition=~Q(external_id=""), name="event_unique_type_external_id"
            )
        ]
        indexes = [
            models.Index(fields=["lead", "occurred_at"], name="event_lead_occurred"),
            models.Index(fields=["type", "occurred_at"], name="event_type_occurred"),
            models.Index(fields=["campaign", "type", "occurred_at"], name="event_campaign_type_occurred"),
            models.Index(fields=["account", "type", "occurred_at"], name="event_account_type_occurred"),
            # A campaign's funnel events in lead order: the per-lead summary streams through it (GroupAggregate,
            # no hash table) and never reads the table. INCLUDE is PostgreSQL's; SQLite gets the plain partial index.
            models.Index(
                fields=["campaign", "lead"],
                include=["type", "occurred_at"],
                condition=Q(type__in=FUNNEL_EVENT_TYPES, lead__isnull=False),
                name="event_funnel_by_lead",
            ),
        ]

    def __str__(self):
        return f"{self.get_type_display()} at {self.occurred_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            super().save(*args, **kwargs)
            return
        if self.campaign_id is None and self.lead_id is not None:
            self.campaign_id = self.lead.campaign_id
        from .funnel import record_event  # the rollups are kept with the event, in its transaction

        record_event(self, lambda: super(Event, self).save(*args, **kwargs))


class LeadFunnel(models.Model):
    """A lead's way through one campaign: when it first reached each stage. Kept up to date with the events, in
    their transaction (leads.funnel); `manage.py rebuild_funnels` recounts it from the event log."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="funnels")
    # (campaign, lead) and funnel_by_account index these two: no single-column index of their own to keep up.
    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+", db_index=False)
    # The sender of the lead's first outreach: per-account results count the lead there.
    account = models.ForeignKey(
        "integrations.LinkedInAccount",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    invited_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    outreach_at = models.DateTimeField(null=True, blank=True, help_text="First invitation, message or InMail.")
    messaged_at = models.DateTimeField(null=True, blank=True, help_text="First message or InMail.")
    replied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "lead"], name="funnel_unique_campaign_lead")]
        indexes = [
            # Time to acceptance and to reply: the leads whose stage falls in a range, with the start beside it.
            models.Index(fields=["campaign", "accepted_at"], include=["invited_at"], name="funnel_accepted"),
            models.Index(fields=["campaign", "replied_at"], include=["outreach_at"], name="funnel_replied"),
            models.Index(
                fields=["account"],
                include=["campaign", "invited_at", "accepted_at", "replied_at"],
                condition=Q(account__isnull=False),
                name="funnel_by_account",
            ),
        ]

    def __str__(self):
        return f"funnel of lead {self.lead_id} in campaign {self.campaign_id}"


FUNNEL_COUNTERS = ("invitations", "acceptances", "messages", "replies", "invited", "accepted", "messaged", "replied")
STEP_COUNTERS = ("sent", "leads", "replies", "replied")


class ActivityCounts(models.Model):
    """Counts per campaign and quarter hour (every timezone's midnight falls on one), written as deltas with
    each event and summed into one row per key by leads.funnel.compact: reports sum a few thousand rows
    instead of counting millions of events."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+", db_index=False)
    slot = models.DateTimeField()
    compacted = models.BooleanField(default=False)

    class Meta:
        abstract = True

    def __str__(self):
        return f"counts of campaign {self.campaign_id} at {self.slot:%Y-%m-%d %H:%M}"


class FunnelActivity(ActivityCounts):
    """Per campaign and quarter hour: events (invitations, acceptances, messages with InMails, replies) and leads
    reaching a stage for the first time (LeadFunnel's times)."""

    invitations = models.IntegerField(default=0)
    acceptances = models.IntegerField(default=0)
    messages = models.IntegerField(default=0)
    replies = models.IntegerField(default=0)
    invited = models.IntegerField(default=0)
    accepted = models.IntegerField(default=0)
    messaged = models.IntegerField(default=0)
    replied = models.IntegerField(default=0)

    COUNTERS = FUNNEL_COUNTERS
    KEY = ("campaign_id", "slot")

    class Meta:
        indexes = [
            # Covering: a range of a client's slots is summed from the index alone.
            models.Index(fields=["campaign", "slot"], include=FUNNEL_COUNTERS, name="funnel_activity_slot"),
            models.Index(fields=["campaign", "slot"], condition=Q(compacted=False), name="funnel_activity_deltas"),
        ]


class StepActivity(ActivityCounts):
    """Per campaign, step, variant and quarter hour: sends, leads sent the step for the first time, replies
    answering it and leads whose first reply to it that was."""

    step = models.PositiveSmallIntegerField()
    variant = models.CharField(max_length=1, blank=True)
    sent = models.IntegerField(default=0)
    leads = models.IntegerField(default=0)
    replies = models.IntegerField(default=0)
    replied = models.IntegerField(default=0)

    COUNTERS = STEP_COUNTERS
    KEY = ("campaign_id", "slot", "step", "variant")

    class Meta:
        indexes = [
            models.Index(
                fields=["campaign", "slot"], include=("step", "variant", *STEP_COUNTERS), name="step_activity_slot"
            ),
            models.Index(fields=["campaign", "slot"], condition=Q(compacted=False), name="step_activity_deltas"),
        ]


class DoNotContact(models.Model):
    """People nobody may contact: for one client, or for every client when client is empty."""

    class Kind(models.TextChoices):
        PROVIDER_ID = "provider_id", "Provider id"
        PUBLIC_IDENTIFIER = "public_identifier", "Public identifier"
        EMAIL = "email", "Email"
        DOMAIN = "domain", "Email domain"

    client = models.ForeignKey(
        "outreach.Client",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="do_not_contact",
        help_text="Empty: applies to every client.",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    value = models.CharField(max_length=254)
    reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "do-not-contact entry"
        verbose_name_plural = "do-not-contact list"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "kind", "value"], condition=Q(client__isnull=False), name="dnc_unique_client_value"
            ),
            models.UniqueConstraint(
                fields=["kind", "value"], condition=Q(client__isnull=True), name="dnc_unique_global_value"
            ),
        ]
        indexes = [models.Index(fields=["kind", "value"], name="dnc_kind_value")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.value}"
