from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from .admin_utils import ClientScopedAdminMixin
from .api.tokens import api_token_check, api_token_issue, api_token_revoke, api_token_rotate
from .models import ApiToken, Brand, Client, Heartbeat, Membership
from .tenancy import MANAGE, client_ids_for, may_client

admin.site.site_header = "Outreach"
admin.site.site_title = "Outreach admin"
admin.site.index_title = "Operations"
# The changelists are wide (usage against limits, lead counts per status): give them the whole screen.
admin.site.enable_nav_sidebar = False


def _count_of(queryset, field: str):
    """A correlated COUNT per row: one query for the page, no joins multiplying each other."""
    counted = queryset.filter(**{field: OuterRef("pk")}).order_by().values(field).annotate(n=Count("pk")).values("n")
    return Subquery(counted, output_field=IntegerField())


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]

    def _manages(self, request, obj) -> bool:
        return request.user.is_superuser or (obj is not None and may_client(request.user, obj.pk, MANAGE))

    def has_view_permission(self, request, obj=None):
        return self._manages(request, obj) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return self._manages(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._manages(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._manages(request, obj) and super().has_delete_permission(request, obj)


@admin.register(Client)
class ClientAdmin(ClientScopedAdminMixin, admin.ModelAdmin):
    client_field = "pk"

    list_display = [
        "name",
        "slug",
        "timezone",
        "account_count",
        "campaign_count",
        "lead_count",
        "weekly_reports_enabled",
    ]
    list_filter = ["weekly_reports_enabled", "reply_notifications_enabled"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "report_links"]
    inlines = [MembershipInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "timezone", "created_at"]}),
        ("Weekly report", {"fields": ["report_recipients", "weekly_reports_enabled", "report_links"]}),
        ("Reply notifications", {"fields": ["notification_recipients", "reply_notifications_enabled"]}),
        (
            "Brand (optional: the agency's brand when empty)",
            {"fields": ["brand_name", "brand_logo_url", "brand_colour"], "classes": ["collapse"]},
        ),
    ]

    @admin.display(description="this week's report")
    def report_links(self, obj):
        if not obj.pk:
            return "Save the client first."
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">Preview in the browser</a> · <a href="{}">Send now to an address…</a>',
            reverse("admin:reports_preview", args=[obj.pk]),
            reverse("admin:reports_send_now", args=[obj.pk]),
        )

    def get_queryset(self, request):
        # Later apps are named by label, not imported: outreach stays at the root of the dependency graph.
        account, campaign, lead = (
            apps.get_model(label) for label in ("integrations.LinkedInAccount", "campaigns.Campaign", "leads.Lead")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_accounts=_count_of(account.objects, "client"),
                n_campaigns=_count_of(campaign.objects, "client"),
                n_leads=_count_of(lead.objects, "campaign__client"),
            )
        )

    @admin.display(description="accounts", ordering="n_accounts")
    def account_count(self, obj):
        return obj.n_accounts or 0

    @admin.display(description="campaigns", ordering="n_campaigns")
    def campaign_count(self, obj):
        return obj.n_campaigns or 0

    @admin.display(description="leads", ordering="n_leads")
    def lead_count(self, obj):
        return obj.n_leads or 0


@admin.register(Membership)
class MembershipAdmin(ClientScopedAdminMixin, admin.ModelAdmin):
    client_level = MANAGE  # a client's members are its admins' business

    list_display = ["user", "client", "role", "created_at"]
    list_filter = ["role", "client"]
    search_fields = ["user__username", "user__email", "client__name"]
    list_select_related = ["user", "client"]
    autocomplete_fields = ["user", "client"]
    readonly_fields = ["created_at"]


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "last_seen"]
    readonly_fields = ["name", "last_seen"]

    def has_add_permission(self, request):
        return False


def token_issued_page(request, issued, *, revoked: bool):
    """The only place a key is ever shown: this response, never a message (a cookie) or a log."""
    response = TemplateResponse(
        request,
        "admin/outreach/apitoken/issued.html",
        {**admin.site.each_context(request), "title": "API token issued", "issued": issued, "revoked": revoked},
    )
    response["Cache-Control"] = "no-store"
    return response


class ApiTokenAddForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["user", "name", "expires_at"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean(self):
        data = super().clean()
        if data.get("user") is not None:
            try:
                api_token_check(
                    user=data["user"], name=data.get("name") or "", expires_at=data.get("expires_at"),
                    created_by=self.request.user if self.request else None,
                )  # fmt: skip
            except ValidationError as error:
                for field, problems in error.message_dict.items():
                    self.add_error(field if field in self.fields else None, problems)
        return data


class TokenStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.active(now)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix_shown", "user", "name", "state", "created_at", "expires_at", "last_used_at"]
    list_filter = [TokenStateFilter]
    search_fields = ["prefix", "name", "user__username"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
    actions = ["revoke"]
    readonly_fields = [
        "user", "prefix_shown", "state", "created_at", "created_by", "last_used_at", "expires_at",
        "revoked_at", "revoked_by",
    ]  # fmt: skip

    def get_queryset(self, request):
        # Other staff see their own tokens and those of the members of their clients.
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        members = Membership.objects.filter(client__in=client_ids_for(request.user)).values("user")
        return queryset.filter(Q(user=request.user) | Q(user__in=members))

    @admin.display(description="token", ordering="prefix")
    def prefix_shown(self, obj):
        return f"{obj.prefix}…"

    @admin.display(description="state")
    def state(self, obj):
        return obj.state

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs.update(form=ApiTokenAddForm, fields=ApiTokenAddForm.Meta.fields)
            form = super().get_form(request, obj, **kwargs)

            class WithRequest(form):
                def __init__(self, *args, **kw):
                    super().__init__(*args, request=request, **kw)

            return WithRequest
        kwargs["fields"] = ["name"]
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        return ApiTokenAddForm.Meta.fields if obj is None else ["name", *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        if change:
            ApiToken.objects.filter(pk=obj.pk).update(name=obj.name)
            return
        token, key = api_token_issue(user=obj.user, name=obj.name, expires_at=obj.expires_at, created_by=request.user)
        obj.pk = token.pk
        request._issued_tokens = [(token, key)]

    def response_add(self, request, obj, post_url_continue=None):
        return token_issued_page(request, request._issued_tokens, revoked=False)

    def has_delete_permission(self, request, obj=None):
        return False  # revoked tokens stay listed: who used which key, and when, is the audit trail

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request, queryset):
        revoked = sum(api_token_revoke(token=token, by=request.user) for token in queryset)
        self.message_user(request, f"{revoked} token(s) revoked; they stop working at once.", messages.SUCCESS)


class OutreachUserAdmin(UserAdmin):
    actions = [*UserAdmin.actions, "issue_api_token"]

    @admin.action(description="Issue or rotate API token (shown once)", permissions=["change"])
    def issue_api_token(self, request, queryset):
        issued, refused = [], []
        for user in queryset:
            try:
                api_token_check(user=user, created_by=request.user)
            except ValidationError as error:
                refused.append(f"{user.username}: {' '.join(error.message_dict.get('user', error.messages))}")
        if refused:
            self.message_user(request, "No token was issued. " + " ".join(refused), messages.ERROR)
            return None
        for user in queryset:
            issued.append(api_token_rotate(user=user, created_by=request.user))
        return token_issued_page(request, issued, revoked=True)


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, OutreachUserAdmin)


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    """One row for the whole installation: only superusers change it (it is every client's sender name)."""

    list_display = ["name", "colour", "sender_name", "show_powered_by", "updated_at"]
    fields = ["name", "logo_url", "colour", "sender_name", "show_powered_by"]

    def has_add_permission(self, request):
        return request.user.is_superuser and not Brand.objects.exists()

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False
