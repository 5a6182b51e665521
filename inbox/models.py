from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .classify import CLASSES


class Conversation(models.Model):
    """One LinkedIn chat of one sender account, with whoever is on the other side."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        SNOOZED = "snoozed", "Snoozed"
        CLOSED = "closed", "Closed"

    client = models.ForeignKey("outreach.Client", on_delete=models.CASCADE, related_name="conversations")
    account = models.ForeignKey("integrations.LinkedInAccount", on_delete=models.CASCADE, related_name="conversations")
    chat_id = models.CharField(max_length=100)
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations"
    )
    person_name = models.CharField(max_length=200, blank=True)
    person_provider_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    snoozed_until = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    unread_count = models.PositiveIntegerField(default=0)
    unread = models.BooleanField(default=False, help_text="unread_count > 0, kept for the list's index.")
    last_message_at = models.DateTimeField(null=True, blank=True)
    last_message_preview = models.CharField(max_length=300, blank=True)
    last_message_inbound = models.BooleanField(default=False)
    reply_class = models.CharField(
        "class", max_length=20, choices=CLASSES, blank=True, help_text="The class of the last reply received."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["account", "chat_id"], name="conversation_unique_account_chat")]
        indexes = [
            # The list: unread first, then newest; per client for members, across clients for superusers.
            models.Index(
                fields=["client", "status", "-unread", "-last_message_at", "-id"], name="conv_client_status_order"
            ),
            models.Index(fields=["status", "-unread", "-last_message_at", "-id"], name="conv_status_order"),
            # The counters only ever count unread conversations: a small partial index serves them all.
            models.Index(fields=["client", "status", "assignee"], condition=Q(unread=True), name="conv_unread"),
            models.Index(fields=["assignee", "status"], name="conv_assignee_status"),
            models.Index(fields=["account", "status"], name="conv_account_status"),
            models.Index(fields=["lead"], name="conv_lead"),
        ]

    def __str__(self):
        return self.person_name or self.chat_id


class Participant(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="participants")
    provider_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200, blank=True)
    profile_url = models.URLField(max_length=500, blank=True)
    is_self = models.BooleanField(default=False, help_text="The sender account itself.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conversation", "provider_id"], name="participant_unique_conversation")
        ]

    def __str__(self):
        return self.name or self.provider_id


class Message(models.Model):
    class Direction(models.TextChoices):
        INBOUND = "in", "Received"
        OUTBOUND = "out", "Sent"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    text = models.TextField(blank=True)
    sender_name = models.CharField(max_length=200, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(default=timezone.now)
    # A reply written here: its delivery state is its OutboundAction's.
    action = models.OneToOneField(
        "campaigns.OutboundAction", null=True, blank=True, on_delete=models.SET_NULL, related_name="inbox_message"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    form_token = models.CharField(max_length=64, blank=True, help_text="Makes a double-submitted reply send once.")
    # Received messages: what the reply says (inbox/classify.py), as staff corrected it when they did.
    reply_class = models.CharField("class", max_length=20, choices=CLASSES, blank=True)
    machine_class = models.CharField(
        max_length=20, choices=CLASSES, blank=True, help_text="What the rules said, kept when staff correct it."
    )
    class_date = models.DateField(null=True, blank=True, help_text="Not now: when to write again; away: the return.")
    referral = models.CharField(max_length=200, blank=True, help_text="The other person a referral names.")
    class_corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    class_corrected_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider_message_id"], condition=~Q(provider_message_id=""), name="message_unique_provider_id"
            ),
            models.UniqueConstraint(
                fields=["conversation", "form_token"], condition=~Q(form_token=""), name="message_unique_form_token"
            ),
        ]
        indexes = [
            models.Index(fields=["conversation", "sent_at"], name="message_conversation_sent"),
            # Reports count corrections over a period.
            models.Index(
                fields=["class_corrected_at"], condition=Q(class_corrected_at__isnull=False), name="message_corrected"
            ),
        ]

    def __str__(self):
        return f"{self.get_direction_display()} {self.sent_at:%Y-%m-%d %H:%M}"

    @property
    def delivery(self) -> tuple[str, str]:
        """(state, reason) of an outgoing message: queued, sending, sent, retrying, failed or cancelled."""
        if self.direction == self.Direction.INBOUND:
            return "received", ""
        action = self.action
        if action is None:
            return "sent", ""
        state = {
            "queued": "queued",
            "claimed": "sending",
            "sent": "sent",
            "failed": "retrying",
            "dead": "failed",
            "cancelled": "cancelled",
        }[action.status]
        return state, action.last_error if state in ("retrying", "failed", "cancelled") else ""


class Label(models.Model):
    """A client's own tag for conversations and leads ("hot", "partner", "follow up by phone")."""

    COLOURS = [
        ("#2563eb", "Blue"),
        ("#059669", "Green"),
        ("#d97706", "Amber"),
        ("#dc2626", "Red"),
        ("#7c3aed", "Violet"),
        ("#475569", "Slate"),
    ]

    client = models.ForeignKey("outreach.Client", on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=40)
    colour = models.CharField(max_length=7, choices=COLOURS, default="#2563eb")
    conversations = models.ManyToManyField(Conversation, blank=True, related_name="labels")
    leads = models.ManyToManyField("leads.Lead", blank=True, related_name="labels")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["client", "name"]
        constraints = [models.UniqueConstraint(fields=["client", "name"], name="label_unique_client_name")]

    def __str__(self):
        return self.name


class SavedReply(models.Model):
    """A client's ready answer, with the same personalization variables and checks as step templates."""

    client = models.ForeignKey("outreach.Client", on_delete=models.CASCADE, related_name="saved_replies")
    name = models.CharField(max_length=80)
    text = models.TextField(help_text="Use {first_name}, {company}, {title}, custom fields, {first_name|there}.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "saved replies"
        ordering = ["client", "name"]
        constraints = [models.UniqueConstraint(fields=["client", "name"], name="savedreply_unique_client_name")]

    def __str__(self):
        return self.name


class Note(models.Model):
    """An internal note on a conversation: never sent, shown in the thread for the team."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "created_at"], name="note_conversation_created")]

    def __str__(self):
        return f"Note by {self.author} at {self.created_at:%Y-%m-%d %H:%M}"
