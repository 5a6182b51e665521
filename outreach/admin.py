from django.apps import apps
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.urls import reverse
from django.utils.html import format_html

from .api.tokens import api_token_rotate
from .models import Client, Heartbeat, Membership

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


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
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
class MembershipAdmin(admin.ModelAdmin):
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


class OutreachUserAdmin(UserAdmin):
    actions = [*UserAdmin.actions, "issue_api_token"]

    @admin.action(description="Issue or rotate API token (shown once)")
    def issue_api_token(self, request, queryset):
        inactive = [user.username for user in queryset if not user.is_active]
        if inactive:
            self.message_user(request, f"Inactive users get no token: {', '.join(inactive)}.", messages.ERROR)
            return
        for user in queryset:
            token = api_token_rotate(user=user)
            self.message_user(
                request,
                f"New API token for {user.username}: {token.key} (copy it now; any older key is revoked).",
                messages.SUCCESS,
            )


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, OutreachUserAdmin)
