from django.contrib import admin
from django.db import models

from . import engine
from .models import (
    SandboxAccount,
    SandboxChat,
    SandboxDelivery,
    SandboxHostedLink,
    SandboxInvitation,
    SandboxMember,
    SandboxMessage,
    SandboxSettings,
    SandboxWebhook,
)


@admin.register(SandboxSettings)
class SandboxSettingsAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "seed",
        "speed_factor",
        "accept_probability",
        "reply_probability",
        "rate_429",
        "rate_500",
    ]
    readonly_fields = ["calls"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not SandboxSettings.objects.exists()


@admin.register(SandboxAccount)
class SandboxAccountAdmin(admin.ModelAdmin):
    list_display = ["name", "account_id", "provider_id", "feature", "premium", "status", "inmail_credits"]
    list_filter = ["status", "feature", "premium"]
    search_fields = ["name", "account_id", "provider_id"]
    actions = ["disconnect", "checkpoint", "reconnect", "no_inmail_credits"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "status" in form.changed_data:
            engine.account_status_changed(obj)  # Unipile tells us by webhook, so does the sandbox

    def _set_status(self, request, queryset, status: str):
        for account in queryset:
            SandboxAccount.objects.filter(pk=account.pk).update(status=status)
            account.status = status
            engine.account_status_changed(account)
        self.message_user(request, f"{queryset.count()} account(s) now {status}; the account_status webhook is queued.")

    @admin.action(description="Inject a disconnection (CREDENTIALS)")
    def disconnect(self, request, queryset):
        self._set_status(request, queryset, "CREDENTIALS")

    @admin.action(description="Inject a checkpoint (CHECKPOINT)")
    def checkpoint(self, request, queryset):
        self._set_status(request, queryset, "CHECKPOINT")

    @admin.action(description="Reconnect (RECONNECTED, then working)")
    def reconnect(self, request, queryset):
        self._set_status(request, queryset, "RECONNECTED")

    @admin.action(description="Use up the InMail credits (0 left)")
    def no_inmail_credits(self, request, queryset):
        count = queryset.update(inmail_credits=0)
        self.message_user(request, f"{count} account(s) have no InMail credit left.")


@admin.register(SandboxHostedLink)
class SandboxHostedLinkAdmin(admin.ModelAdmin):
    list_display = ["id", "type", "reconnect_account", "expires_at", "used_at", "notify_result"]
    list_filter = ["type"]
    readonly_fields = ["notify_result"]


@admin.register(SandboxMember)
class SandboxMemberAdmin(admin.ModelAdmin):
    list_display = ["__str__", "public_identifier", "provider_id", "headline", "location"]
    search_fields = ["first_name", "last_name", "public_identifier", "provider_id"]
    show_full_result_count = False


@admin.register(SandboxInvitation)
class SandboxInvitationAdmin(admin.ModelAdmin):
    list_display = ["id", "account", "member", "status", "created_at", "decide_at"]
    list_filter = ["status", "account"]
    raw_id_fields = ["account", "member"]
    list_select_related = ["account", "member"]
    show_full_result_count = False


@admin.register(SandboxChat)
class SandboxChatAdmin(admin.ModelAdmin):
    list_display = ["id", "account", "member", "created_at"]
    raw_id_fields = ["account", "member"]
    list_select_related = ["account", "member"]
    show_full_result_count = False


@admin.register(SandboxMessage)
class SandboxMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "chat", "is_sender", "message_type", "created_at", "reply_due_at", "text"]
    list_filter = ["is_sender", "message_type"]
    raw_id_fields = ["chat"]
    show_full_result_count = False


@admin.register(SandboxWebhook)
class SandboxWebhookAdmin(admin.ModelAdmin):
    list_display = ["id", "source", "request_url", "name", "created_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


@admin.register(SandboxDelivery)
class SandboxDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "webhook", "attempts", "next_attempt_at", "delivered_at", "gave_up", "last_result"]
    list_filter = ["gave_up"]
    raw_id_fields = ["webhook"]
    show_full_result_count = False
