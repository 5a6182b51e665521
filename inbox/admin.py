from django import forms
from django.contrib import admin
from django.db import models

from outreach.admin_utils import ClientScopedAdminMixin, ReadOnlyAdminMixin

from .models import Conversation, Label, Message, Participant, SavedReply
from .services import TriageRefused, label_check, saved_reply_check


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["sent_at", "direction", "sender_name", "text", "provider_message_id", "action"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-sent_at"]
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("action")


@admin.register(Conversation)
class ConversationAdmin(ClientScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Conversations are worked from the inbox (/inbox/), whose services check who may be assigned."""

    list_display = ["__str__", "client", "account", "lead", "status", "unread_count", "assignee", "last_message_at"]
    list_filter = ["status", "unread", "client"]
    search_fields = ["person_name", "chat_id", "person_provider_id"]
    list_select_related = ["client", "account", "lead", "assignee"]
    raw_id_fields = ["lead", "assignee", "account", "client"]
    readonly_fields = ["chat_id", "unread_count", "last_message_at", "last_message_preview", "created_at"]
    inlines = [MessageInline]
    date_hierarchy = "last_message_at"
    show_full_result_count = False


@admin.register(Message)
class MessageAdmin(ClientScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    client_field = "conversation__client"

    list_display = ["sent_at", "direction", "conversation", "sender_name", "short_text"]
    list_filter = ["direction"]
    search_fields = ["provider_message_id"]
    list_select_related = ["conversation"]
    show_full_result_count = False

    @admin.display(description="text")
    def short_text(self, obj):
        return obj.text[:80]


@admin.register(Participant)
class ParticipantAdmin(ClientScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    client_field = "conversation__client"

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ["name", "provider_id", "conversation", "is_self"]
    search_fields = ["provider_id", "name"]
    list_select_related = ["conversation"]


class LabelForm(forms.ModelForm):
    """The same checks as the inbox's label service (name, colour, one name per client)."""

    class Meta:
        model = Label
        fields = ["client", "name", "colour"]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            label_check(
                client=data["client"], name=data.get("name", ""), colour=data.get("colour", ""), label=self.instance
            )
        except TriageRefused as exc:
            self.add_error(exc.field, str(exc))
        return data


@admin.register(Label)
class LabelAdmin(ClientScopedAdminMixin, admin.ModelAdmin):
    form = LabelForm
    client_level = "work"
    list_display = ["name", "client", "colour", "conversation_count"]
    list_filter = ["client"]
    search_fields = ["name"]
    list_select_related = ["client"]

    @admin.display(description="conversations")
    def conversation_count(self, obj):
        return obj.conversations.count()


class SavedReplyForm(forms.ModelForm):
    """The service's checks: a name of its own, and a text checked like step templates and LinkedIn's length."""

    class Meta:
        model = SavedReply
        fields = ["client", "name", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 6, "cols": 80})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].required = False  # an empty text is refused by the service's own words

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            saved_reply_check(
                client=data["client"], name=data.get("name", ""), text=data.get("text", ""), saved=self.instance
            )
        except TriageRefused as exc:
            self.add_error(exc.field, str(exc))
        return data


@admin.register(SavedReply)
class SavedReplyAdmin(ClientScopedAdminMixin, admin.ModelAdmin):
    form = SavedReplyForm
    client_level = "work"
    list_display = ["name", "client", "short_text"]
    list_filter = ["client"]
    search_fields = ["name", "text"]
    list_select_related = ["client"]

    @admin.display(description="text")
    def short_text(self, obj):
        return obj.text[:80] + ("…" if len(obj.text) > 80 else "")
