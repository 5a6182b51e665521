import datetime as dt

import holidays
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone as tz
from timezone_field import TimeZoneField

from integrations.models import ActionKind

WEEKDAY_NAMES = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def default_working_days():
    return [0, 1, 2, 3, 4]


def validate_working_days(value):
    if not isinstance(value, list) or not value:
        raise ValidationError("Pick at least one working day.")
    if any(not isinstance(day, int) or not 0 <= day <= 6 for day in value) or len(set(value)) != len(value):
        raise ValidationError("Working days are distinct numbers from 0 (Monday) to 6 (Sunday).")


class Campaign(models.Model):
    class Kind(models.TextChoices):
        CONNECTOR = "connector", "Connector (invite first)"
        MESSENGER = "messenger", "Messenger (1st-degree connections)"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        ARCHIVED = "archived", "Archived"

    client = models.ForeignKey("outreach.Client", on_delete=models.PROTECT, related_name="campaigns")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CONNECTOR)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    timezone = TimeZoneField(default="UTC")
    work_start = models.TimeField("working hours from", default=dt.time(9, 0))
    work_end = models.TimeField("working hours until", default=dt.time(17, 0))
    working_days = models.JSONField(
        default=default_working_days, validators=[validate_working_days], help_text="0 = Monday … 6 = Sunday."
    )
    holiday_country = models.CharField(max_length=2, blank=True, help_text="ISO country code, e.g. GB, US, DE.")
    holiday_subdivision = models.CharField(max_length=10, blank=True, help_text="Optional, e.g. ENG or CA.")
    senders = models.ManyToManyField("integrations.LinkedInAccount", blank=True, related_name="campaigns")
    one_conversation_per_person = models.BooleanField(
        default=True, help_text="A reply stops this person in every campaign of the client."
    )
    dry_run = models.BooleanField(default=False, help_text="Do everything except call LinkedIn.")
    created_at = models.DateTimeField(default=tz.now, editable=False)
    activated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.work_start and self.work_end and self.work_start >= self.work_end:
            errors["work_end"] = "Working hours must end after they start."
        if self.holiday_country:
            country = self.holiday_country.upper()
            if country not in holidays.list_supported_countries():
                errors["holiday_country"] = f"{self.holiday_country!r} is not a country the holidays package knows."
            elif (
                self.holiday_subdivision
                and self.holiday_subdivision.upper() not in holidays.list_supported_countries()[country]
            ):
                errors["holiday_subdivision"] = f"{self.holiday_subdivision!r} is not a subdivision of {country}."
        elif self.holiday_subdivision:
            errors["holiday_subdivision"] = "A subdivision needs a country."
        if errors:
            raise ValidationError(errors)

    @property
    def working_days_display(self) -> str:
        return ", ".join(WEEKDAY_NAMES[d] for d in sorted(self.working_days))


class Step(models.Model):
    """A node of the campaign's sequence. The sequence is a tree: each node hangs under its parent on one branch
    ("next" after an action or a wait, "yes" or "no" after a condition); the root has no parent. position is the
    node's number in the campaign, shown to people and used in events."""

    class Action(models.TextChoices):
        INVITE = ActionKind.INVITE.value, "Invitation"
        MESSAGE = ActionKind.MESSAGE.value, "Message"
        INMAIL = ActionKind.INMAIL.value, "InMail"
        VISIT = ActionKind.VISIT.value, "Profile visit"
        FOLLOW = ActionKind.FOLLOW.value, "Follow"
        LIKE = ActionKind.LIKE.value, "Like latest post"
        ENDORSE = ActionKind.ENDORSE.value, "Endorse a skill"
        WITHDRAW = ActionKind.WITHDRAW.value, "Withdraw invitation"
        WAIT = "wait", "Wait"
        CONDITION = "condition", "Condition"

    class Branch(models.TextChoices):
        NEXT = "next", "next"
        YES = "yes", "yes"
        NO = "no", "no"

    class Condition(models.TextChoices):
        ACCEPTED = "accepted", "Invitation accepted"
        REPLIED = "replied", "Replied"
        CONNECTED = "connected", "Is a 1st-degree connection"
        HAS_EMAIL = "has_email", "Has an email address"
        INMAIL_CREDITS = "inmail_credits", "Sender has InMail credits"

    # Conditions that wait for something to happen, up to within_days working days.
    WINDOW_CONDITIONS = frozenset({Condition.ACCEPTED, Condition.REPLIED})
    # Nodes that call LinkedIn (an OutboundAction each); the others are decided by the planner.
    SENDING = frozenset(
        {
            Action.INVITE,
            Action.MESSAGE,
            Action.INMAIL,
            Action.VISIT,
            Action.FOLLOW,
            Action.LIKE,
            Action.ENDORSE,
            Action.WITHDRAW,
        }
    )
    TEXT_ACTIONS = frozenset({Action.INVITE, Action.MESSAGE, Action.INMAIL})

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField()
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.RESTRICT, related_name="children", help_text="Comes after."
    )
    branch = models.CharField(max_length=4, choices=Branch.choices, default=Branch.NEXT)
    label = models.CharField(max_length=80, blank=True, help_text='A name for reports, e.g. "Follow-up 1".')
    action = models.CharField(max_length=10, choices=Action.choices)
    condition = models.CharField(max_length=20, choices=Condition.choices, blank=True)
    within_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(365)],
        help_text="Conditions that wait (accepted, replied): working days to wait before the no path.",
    )
    delay_days = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(365)], help_text="Working days after the previous step."
    )
    delay_hours = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(23)])
    template = models.TextField(
        blank=True, help_text="Use {first_name}, {company}, {title}, custom fields, {first_name|there}."
    )
    template_b = models.TextField(
        "variant B", blank=True, help_text="Optional: half of the leads get this text instead."
    )
    withdraw_after_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Invitations only: withdraw when not accepted after this many days."
    )

    class Meta:
        ordering = ["campaign", "position"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "position"], name="step_unique_campaign_position"),
            # One node per branch of a node: the sequence is a tree (its one root is checked by the sequence's
            # service, which detaches the nodes while it rewrites them).
            models.UniqueConstraint(
                fields=["parent", "branch"], condition=Q(parent__isnull=False), name="step_unique_parent_branch"
            ),
        ]

    def __str__(self):
        return f"{self.position}. {self.display_label}"

    @property
    def display_label(self) -> str:
        """What people read for this node: its label, else what it does."""
        if self.label:
            return self.label
        if self.action == self.Action.CONDITION:
            text = self.get_condition_display() or "Condition"
            if self.condition in self.WINDOW_CONDITIONS and self.within_days:
                text += f" within {self.within_days} working day{'s' if self.within_days != 1 else ''}"
            return text + "?"
        if self.action == self.Action.WAIT:
            return f"Wait {self.delay_display or '0 days'}"
        return self.get_action_display()

    @property
    def is_condition(self) -> bool:
        return self.action == self.Action.CONDITION

    @property
    def sends(self) -> bool:
        return self.action in self.SENDING

    def clean(self):
        errors = {}
        if self.action in (self.Action.MESSAGE, self.Action.INMAIL) and not self.template.strip():
            errors["template"] = "A message needs a text."
        if self.action not in self.TEXT_ACTIONS and (self.template.strip() or self.template_b.strip()):
            errors["template"] = f"A {self.get_action_display().lower()} step sends no text."
        if self.withdraw_after_days is not None and self.action != self.Action.INVITE:
            errors["withdraw_after_days"] = "Only invitations can be withdrawn."
        if self.template_b.strip() and not self.template.strip():
            errors["template_b"] = "Variant B needs a variant A."
        if self.action == self.Action.CONDITION:
            if not self.condition:
                errors["condition"] = "Pick what the condition checks."
            elif self.condition in self.WINDOW_CONDITIONS and not self.within_days:
                errors["within_days"] = "Say how many working days to wait (1 to 365)."
            elif self.condition not in self.WINDOW_CONDITIONS and self.within_days:
                errors["within_days"] = f"{self.get_condition_display()} is checked at once: it has no window."
        elif self.condition:
            errors["condition"] = "Only a condition step checks something."
        elif self.within_days:
            errors["within_days"] = "Only a condition that waits has a window."
        if self.branch in (self.Branch.YES, self.Branch.NO) and self.parent_id and not self.parent.is_condition:
            errors["branch"] = "Only a condition has a yes and a no path."
        if errors:
            raise ValidationError(errors)

    @property
    def delay_display(self) -> str:
        parts = []
        if self.delay_days:
            parts.append(f"{self.delay_days} working day{'s' if self.delay_days != 1 else ''}")
        if self.delay_hours:
            parts.append(f"{self.delay_hours} h")
        return " ".join(parts)

    @property
    def has_variant_b(self) -> bool:
        return bool(self.template_b.strip())


class OutboundAction(models.Model):
    """The send queue: one row per thing Outreach will do on LinkedIn."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        CLAIMED = "claimed", "Claimed"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (will retry)"
        DEAD = "dead", "Dead"
        CANCELLED = "cancelled", "Cancelled"

    # Not handed to LinkedIn yet: a stopped lead's are cancelled. Open: not finished either way (claimed too).
    WAITING_STATUSES = frozenset({Status.QUEUED, Status.FAILED})
    OPEN_STATUSES = frozenset({Status.QUEUED, Status.CLAIMED, Status.FAILED})

    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.CASCADE, related_name="actions")
    # RESTRICT: a step with history cannot be deleted on its own (its campaign's deletion still takes both).
    step = models.ForeignKey(Step, null=True, blank=True, on_delete=models.RESTRICT, related_name="actions")
    account = models.ForeignKey("integrations.LinkedInAccount", on_delete=models.CASCADE, related_name="actions")
    action = models.CharField(max_length=10, choices=Step.Action.choices)
    text = models.TextField(blank=True)
    variant = models.CharField(max_length=1, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    scheduled_for = models.DateTimeField(default=tz.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    usage_day = models.DateField(null=True, blank=True, help_text="The account's day whose cap this action counts in.")
    outcome_unknown = models.BooleanField(
        default=False, help_text="The provider call failed in a way that may have taken effect: check before retrying."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    invitation_id = models.CharField(max_length=100, blank=True)
    chat_id = models.CharField(max_length=100, blank=True)
    conversation = models.ForeignKey(
        "inbox.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    send_now = models.BooleanField(
        default=False, help_text="A staff reply sent outside working hours (still inside the account's caps)."
    )
    message_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=tz.now, editable=False)

    class Meta:
        verbose_name = "outbound action"
        ordering = ["-scheduled_for"]
        constraints = [
            # A step can never be queued twice for a lead.
            models.UniqueConstraint(
                fields=["lead", "step"], condition=Q(step__isnull=False), name="action_unique_lead_step"
            )
        ]
        indexes = [
            models.Index(fields=["status", "scheduled_for"], name="action_status_scheduled"),
            models.Index(fields=["account", "status", "scheduled_for"], name="action_account_status_sched"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} #{self.pk}"


class LeadSource(models.Model):
    """Leads from LinkedIn: a people search, a Sales Navigator search or lead list, or a post's engagers,
    read page by page by one account inside its read budget and imported through the CSV import's checks."""

    class Kind(models.TextChoices):
        SEARCH = "search", "LinkedIn people search"
        SALES_NAVIGATOR_SEARCH = "sales_navigator_search", "Sales Navigator search"
        SALES_NAVIGATOR_LIST = "sales_navigator_list", "Sales Navigator lead list"
        POST_REACTIONS = "post_reactions", "People who reacted to a post"
        POST_COMMENTS = "post_comments", "People who commented on a post"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        CANCELLED = "cancelled", "Cancelled"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Stopped by an error"

    class FirstDegree(models.TextChoices):
        SKIP = "skip", "Skip them"
        IMPORT = "import", "Import them (the invitation is skipped, messages follow)"

    OPEN_STATUSES = (Status.RUNNING, Status.PAUSED)
    SALES_NAVIGATOR_KINDS = (Kind.SALES_NAVIGATOR_SEARCH, Kind.SALES_NAVIGATOR_LIST)

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="sources")
    account = models.ForeignKey(
        "integrations.LinkedInAccount", on_delete=models.PROTECT, related_name="lead_sources",
        help_text="The account that reads the results (its daily read budget is spent).",
    )  # fmt: skip
    kind = models.CharField(max_length=30, choices=Kind.choices, editable=False)
    url = models.URLField("LinkedIn URL", max_length=2000)
    key = models.CharField(max_length=300, editable=False, help_text="What the URL points at, normalized.")
    max_leads = models.PositiveIntegerField(default=500, validators=[MaxValueValidator(10000)])
    first_degree = models.CharField(max_length=10, choices=FirstDegree.choices, default=FirstDegree.SKIP)
    working_hours_only = models.BooleanField(default=False, help_text="Read only inside the campaign's working hours.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING, editable=False)
    stop_reason = models.CharField(max_length=300, blank=True, editable=False)
    cursor = models.TextField(blank=True, editable=False)
    pages_read = models.PositiveIntegerField(default=0, editable=False)
    found = models.PositiveIntegerField(default=0, editable=False)
    imported = models.PositiveIntegerField(default=0, editable=False)
    skipped = models.JSONField(default=dict, blank=True, editable=False, help_text="Skipped people by reason.")
    next_run_at = models.DateTimeField(default=tz.now, editable=False)
    runs = models.PositiveSmallIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=tz.now, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "lead source"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_run_at"], name="leadsource_due")]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "key"], name="leadsource_unique_campaign_key"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.campaign}"

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


class LeadSourcePerson(models.Model):
    """Everyone a source found, once, with what became of them: a re-run skips them (nobody twice)."""

    source = models.ForeignKey(LeadSource, on_delete=models.CASCADE, related_name="people")
    provider_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=30)
    reason = models.CharField(max_length=300, blank=True)
    lead = models.ForeignKey("leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    found_at = models.DateTimeField(default=tz.now)

    class Meta:
        verbose_name = "person found"
        verbose_name_plural = "people found"
        constraints = [models.UniqueConstraint(fields=["source", "provider_id"], name="leadsourceperson_unique_person")]

    def __str__(self):
        return f"{self.name or self.provider_id}: {self.outcome}"
