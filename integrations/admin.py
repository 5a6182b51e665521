import datetime as dt
import json

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Prefetch, Value, When
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from outreach.admin_utils import (
    ClientScopedAdminMixin,
    ReadOnlyAdminMixin,
    ReasonForm,
    intermediate_page,
    require_client,
    run_bulk,
    truncated,
)
from outreach.csvutils import streaming_csv_response
from outreach.models import Client
from outreach.tenancy import MANAGE, MANAGE_ROLES, client_ids_for, clients_for

from . import webhooks
from .connect import ConnectRefused, hosted_link_request
from .models import (
    AccountNotice,
    AccountStatusChange,
    ActionKind,
    EventDelivery,
    HostedAuthLink,
    LinkedInAccount,
    RateUsage,
    SyncState,
    WebhookDelivery,
    WebhookEndpoint,
)
from .outbound import (
    EVENT_TYPES,
    UnsafeTarget,
    check_target,
    deliveries_replay,
    endpoint_create,
    endpoint_enable,
    endpoint_ping,
    endpoint_rotate_secret,
)
from .services import (
    AccountActionRefused,
    AccountIdRefused,
    account_check_unipile_id,
    account_create,
    account_pause,
    account_resume,
    account_sync,
    rate_usage_recount,
    rate_usage_reset,
)
from .unipile import UnipileError


def _used_of(used: int, limit: int):
    style = "color:#ba2121;font-weight:bold" if limit and used >= limit else ""
    return format_html('<span style="{}">{} / {}</span>', style, used, limit)


# Limits an operator may set when adding an account by hand; the rest comes from Unipile or the engine.
ACCOUNT_SETTINGS_FIELDS = [
    "kind",
    "timezone",
    "daily_invite_limit",
    "weekly_invite_limit",
    "daily_message_limit",
    "daily_visit_limit",
    "daily_inmail_limit",
    "daily_follow_limit",
    "daily_like_limit",
    "daily_endorse_limit",
    "daily_withdraw_limit",
    "daily_read_limit",
    "max_pending_invitations",
    "min_seconds_between_actions",
    "warmup_started_on",
]


class AccountAddForm(forms.ModelForm):
    """Adding an account by its Unipile id: the id is checked with Unipile before anything is saved."""

    remote = None

    def clean_unipile_account_id(self):
        value = self.cleaned_data["unipile_account_id"].strip()
        try:
            self.remote = account_check_unipile_id(unipile_account_id=value)
        except AccountIdRefused as exc:
            raise forms.ValidationError(str(exc)) from None
        return value


class ConnectForm(forms.Form):
    client = forms.ModelChoiceField(queryset=Client.objects.none(), help_text="The client this account sends for.")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients_for(user, roles=MANAGE_ROLES).order_by("name")


@admin.register(LinkedInAccount)
class LinkedInAccountAdmin(ClientScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "client",
        "kind",
        "status_badge",
        "paused",
        "paused_reason",
        "rate_limit",
        "invites_today",
        "messages_today",
        "visits_today",
        "inmails_today",
        "last_action_at",
    ]
    list_filter = ["status", "paused", "kind", "client"]
    search_fields = ["name", "unipile_account_id", "provider_id", "client__name"]
    list_select_related = ["client"]
    autocomplete_fields = ["client"]
    # What Unipile and the engine own: status, own id and premium come from Unipile (hosted auth, Test connection,
    # the periodic sync, webhooks); a pause goes through the Pause/Resume actions, which ask for a reason; the same
    # fields are read-only in the API.
    readonly_fields = [
        "status",
        "provider_id",
        "is_premium",
        "paused",
        "paused_reason",
        "paused_until",
        "last_action_at",
        "created_at",
        "pause_source",
        "rate_limit",
        "rate_limited_at",
        "rate_limit_strikes",
        "status_changed_at",
        "disconnected_since",
        "inmail_credits",
        "inmail_credits_checked_at",
    ]
    actions = ["pause_accounts", "resume_accounts", "test_connection"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "client",
                    "name",
                    "unipile_account_id",
                    "provider_id",
                    "kind",
                    "is_premium",
                    "status",
                    "timezone",
                ],
                "description": 'Connect accounts with "Connect a LinkedIn account" (the owner logs in on Unipile\'s page). '
                "Adding one by its Unipile id works too: the id is checked with Unipile when you save.",
            },
        ),
        ("Pause", {"fields": ["paused", "paused_reason", "pause_source", "paused_until", "disconnected_since"]}),
        ("Limits", {"fields": [name for name in ACCOUNT_SETTINGS_FIELDS if name not in ("kind", "timezone")]}),
        ("Rate limits", {"fields": ["rate_limit", "rate_limited_at", "rate_limit_strikes"]}),
        ("InMail", {"fields": ["inmail_credits", "inmail_credits_checked_at"]}),
        ("History", {"fields": ["last_action_at", "status_changed_at", "created_at"]}),
    ]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = AccountAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += ["client", "unipile_account_id"]  # an account belongs to one client, for good
        return fields

    def get_changeform_initial_data(self, request):
        return {**settings.ACCOUNT_DEFAULT_LIMITS, **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created = account_create(
            client=form.cleaned_data["client"],
            unipile_account_id=form.cleaned_data["unipile_account_id"],
            name=form.cleaned_data["name"],
            remote=form.remote,
            **{name: form.cleaned_data.get(name) for name in ACCOUNT_SETTINGS_FIELDS},
        )
        obj.pk = created.pk
        obj.refresh_from_db()
        return None

    def get_ordering(self, request):
        # Accounts that need their owner come first: an agency with hundreds reconnects a few every day.
        attention = Case(
            When(status__in=LinkedInAccount.RECONNECT_STATUSES, then=Value(0)),
            When(paused=True, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
        return [attention.asc(), "client__name", "name"]

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        if obj.needs_reconnect:
            return format_html(
                '<strong style="color:#ba2121">{}</strong> · <a href="{}">Reconnect</a>',
                obj.get_status_display(),
                reverse("admin:integrations_linkedinaccount_reconnect", args=[obj.pk]),
            )
        if obj.status in LinkedInAccount.WORKING_STATUSES:
            return format_html('<span style="color:#1f7a4d">{}</span>', obj.get_status_display())
        return obj.get_status_display()

    # --- connect and reconnect ---

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("connect/", view(self.connect_view), name="integrations_linkedinaccount_connect"),
            path("connect/<str:public_id>/", view(self.link_view), name="integrations_linkedinaccount_link"),
            path(
                "connect/<str:public_id>/status",
                view(self.link_status_view),
                name="integrations_linkedinaccount_link_status",
            ),
            path("<int:pk>/reconnect/", view(self.reconnect_view), name="integrations_linkedinaccount_reconnect"),
            *super().get_urls(),
        ]

    def _page(self, request, template, title, **context):
        return TemplateResponse(
            request,
            f"admin/integrations/linkedinaccount/{template}",
            {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **context},
        )

    def connect_view(self, request):
        """Pick the client, get a hosted-auth link for the account's owner."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ConnectForm(request.POST or None, user=request.user, initial={"client": request.GET.get("client")})
        choices = form.fields["client"].queryset
        if not form.initial["client"] and choices.count() == 1:
            form.initial["client"] = choices.get().pk  # one client: nothing to pick
        if request.method == "POST" and form.is_valid():
            client = form.cleaned_data["client"]
            require_client(request, client.pk, MANAGE)
            try:
                link = hosted_link_request(client=client, user=request.user)
            except ConnectRefused as exc:
                form.add_error(None, str(exc))
            else:
                return HttpResponseRedirect(reverse("admin:integrations_linkedinaccount_link", args=[link.public_id]))
        return self._page(request, "connect.html", "Connect a LinkedIn account", form=form)

    def _link(self, request, public_id) -> HostedAuthLink:
        link = HostedAuthLink.objects.select_related("client", "account").filter(public_id=public_id).first()
        if link is None:
            raise Http404("No such link.")
        require_client(request, link.client_id, MANAGE)
        return link

    def link_view(self, request, public_id):
        if not self.has_add_permission(request) and not self.has_change_permission(request):
            raise PermissionDenied
        link = self._link(request, public_id)
        again = (
            reverse("admin:integrations_linkedinaccount_reconnect", args=[link.account_id])
            if link.account_id and link.kind == HostedAuthLink.Kind.RECONNECT
            else reverse("admin:integrations_linkedinaccount_connect") + f"?client={link.client_id}"
        )
        return self._page(
            request,
            "link.html",
            link.get_kind_display(),
            link=link,
            expired=link.is_expired(),
            restart_hour=settings.UNIPILE_DAILY_RESTART_UTC_HOUR,
            again_url=again,
            status_url=reverse("admin:integrations_linkedinaccount_link_status", args=[link.public_id]),
        )

    def link_status_view(self, request, public_id):
        """Polled by the link page: once the owner got through, the operator lands on the account with a message."""
        if not self.has_add_permission(request) and not self.has_change_permission(request):
            raise PermissionDenied
        link = self._link(request, public_id)
        if link.used_at and link.account_id:
            messages.success(
                request,
                f"LinkedIn account {link.account} {'reconnected' if link.kind == 'reconnect' else 'connected'} for {link.client}.",
            )
            return JsonResponse(
                {
                    "state": "used",
                    "redirect": reverse("admin:integrations_linkedinaccount_change", args=[link.account_id]),
                }
            )
        return JsonResponse({"state": "expired" if link.is_expired() else "pending"})

    def reconnect_view(self, request, pk):
        if not self.has_change_permission(request):
            raise PermissionDenied
        account = self.get_queryset(request).filter(pk=pk).select_related("client").first()
        if account is None:
            raise Http404("No such account.")
        require_client(request, account.client_id, MANAGE)
        error = ""
        if request.method == "POST":
            try:
                link = hosted_link_request(client=account.client, user=request.user, account=account)
            except ConnectRefused as exc:
                error = str(exc)
            else:
                return HttpResponseRedirect(reverse("admin:integrations_linkedinaccount_link", args=[link.public_id]))
        return self._page(request, "reconnect.html", f"Reconnect {account}", account=account, error=error)

    def get_queryset(self, request):
        # Every account's "today" lies within a day of UTC's; the right row is picked per account.
        utc_today = timezone.now().date()
        recent = RateUsage.objects.filter(
            day__range=(utc_today - dt.timedelta(days=1), utc_today + dt.timedelta(days=1))
        )
        return (
            super()
            .get_queryset(request)
            .prefetch_related(Prefetch("rate_usages", queryset=recent, to_attr="recent_usages"))
        )

    def _today(self, obj) -> RateUsage:
        today = obj.today()
        return next((u for u in obj.recent_usages if u.day == today), None) or RateUsage(account=obj, day=today)

    @admin.display(description="rate limit", ordering="cooldown_until")
    def rate_limit(self, obj):
        if obj.is_cooling_down(timezone.now()):
            return f"Cooling down after a rate limit until {timezone.localtime(obj.cooldown_until):%H:%M}"
        return "—"

    @admin.display(description="invites today")
    def invites_today(self, obj):
        usage = self._today(obj)
        return _used_of(usage.invites, obj.cap_of_day(ActionKind.INVITE, usage.day))

    @admin.display(description="messages today")
    def messages_today(self, obj):
        usage = self._today(obj)
        return _used_of(usage.messages, obj.cap_of_day(ActionKind.MESSAGE, usage.day))

    @admin.display(description="visits today")
    def visits_today(self, obj):
        usage = self._today(obj)
        return _used_of(usage.visits, obj.cap_of_day(ActionKind.VISIT, usage.day))

    @admin.display(description="InMails today")
    def inmails_today(self, obj):
        usage = self._today(obj)
        return _used_of(usage.inmails, obj.cap_of_day(ActionKind.INMAIL, usage.day))

    @admin.action(description="Pause selected accounts…")
    def pause_accounts(self, request, queryset):
        form = intermediate_page(
            self,
            request,
            queryset,
            form_class=ReasonForm,
            title="Pause LinkedIn accounts",
            submit_label="Pause",
            description="Paused accounts send nothing; their queued actions wait until they are resumed.",
        )
        if not isinstance(form, ReasonForm):
            return form
        reason = form.cleaned_data["reason"]
        run_bulk(
            self,
            request,
            queryset,
            lambda account: account_pause(account=account, reason=reason),
            done="account(s) paused",
            refused_errors=(AccountActionRefused,),
        )
        return None

    @admin.action(description="Test connection with Unipile (updates status and own id)")
    def test_connection(self, request, queryset):
        try:
            results = account_sync(accounts=queryset.select_related("client"))
        except (UnipileError, ValueError) as exc:
            self.message_user(request, f"Unipile did not answer: {exc}", messages.ERROR)
            return
        for result in results:
            ok = result.found and result.account.status in LinkedInAccount.WORKING_STATUSES
            self.message_user(request, result.message, messages.SUCCESS if ok else messages.WARNING)

    @admin.action(description="Resume selected accounts")
    def resume_accounts(self, request, queryset):
        run_bulk(
            self,
            request,
            queryset,
            lambda account: account_resume(account=account),
            done="account(s) resumed",
            refused_errors=(AccountActionRefused,),
        )


@admin.register(RateUsage)
class RateUsageAdmin(ClientScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    client_field = "account__client"

    """Counters are the engine's truth for caps: they move only by claims, and by the reset (with a reason) and
    recount actions here, as in the API."""

    list_display = [
        "account",
        "client",
        "day",
        "invites_used",
        "messages_used",
        "inmails_used",
        "visits_used",
        "updated_at",
    ]
    list_filter = ["account__client", "day", "account"]
    search_fields = ["account__name", "account__client__name"]
    list_select_related = ["account__client"]
    date_hierarchy = "day"
    raw_id_fields = ["account"]
    readonly_fields = ["updated_at"]
    actions = ["reset_counters", "recount_from_events", "export_csv"]

    @admin.display(description="client", ordering="account__client__name")
    def client(self, obj):
        return obj.account.client

    @admin.display(description="invites", ordering="invites")
    def invites_used(self, obj):
        return _used_of(obj.invites, obj.account.cap_of_day(ActionKind.INVITE, obj.day))

    @admin.display(description="messages", ordering="messages")
    def messages_used(self, obj):
        return _used_of(obj.messages, obj.account.cap_of_day(ActionKind.MESSAGE, obj.day))

    @admin.display(description="InMails", ordering="inmails")
    def inmails_used(self, obj):
        return _used_of(obj.inmails, obj.account.cap_of_day(ActionKind.INMAIL, obj.day))

    @admin.display(description="visits", ordering="visits")
    def visits_used(self, obj):
        return _used_of(obj.visits, obj.account.cap_of_day(ActionKind.VISIT, obj.day))

    @admin.action(description="Reset selected counters to zero…")
    def reset_counters(self, request, queryset):
        form = intermediate_page(
            self,
            request,
            queryset,
            form_class=ReasonForm,
            title="Reset usage counters",
            submit_label="Reset counters",
            description="The counters are what keeps accounts under their caps: a reset lets them send again today. "
            "The reason is kept in the admin log of each row.",
        )
        if not isinstance(form, ReasonForm):
            return form
        count = rate_usage_reset(usages=queryset, reason=form.cleaned_data["reason"], user=request.user)
        self.message_user(request, f"{count} row(s) reset.", messages.SUCCESS)
        return None

    @admin.action(description="Recount selected rows from the event log")
    def recount_from_events(self, request, queryset):
        results = rate_usage_recount(usages=queryset, user=request.user)
        changed = [(usage, changes) for usage, changes in results if changes]
        if not changed:
            self.message_user(request, f"{len(results)} row(s) checked; all matched the event log.", messages.SUCCESS)
            return
        details = "; ".join(
            f"{usage}: " + ", ".join(f"{k} {a}→{b}" for k, (a, b) in changes.items()) for usage, changes in changed[:5]
        )
        self.message_user(request, f"{len(changed)} of {len(results)} row(s) corrected: {details}", messages.WARNING)

    @admin.action(description="Export selected rows as CSV")
    def export_csv(self, request, queryset):
        header = [
            "client",
            "account",
            "day",
            "invites",
            "invites limit",
            "messages",
            "messages limit",
            "inmails",
            "inmails limit",
            "visits",
            "visits limit",
        ]
        rows = (
            [
                u.account.client.name,
                u.account.name,
                u.day.isoformat(),
                u.invites,
                u.account.cap_of_day(ActionKind.INVITE, u.day),
                u.messages,
                u.account.cap_of_day(ActionKind.MESSAGE, u.day),
                u.inmails,
                u.account.cap_of_day(ActionKind.INMAIL, u.day),
                u.visits,
                u.account.cap_of_day(ActionKind.VISIT, u.day),
            ]
            for u in queryset.select_related("account__client").iterator(chunk_size=2000)
        )
        return streaming_csv_response(f"rate-usage-{timezone.now():%Y%m%d-%H%M}.csv", header, rows)


class AccountIdFilter(admin.SimpleListFilter):
    title = "account"
    parameter_name = "account"

    def lookups(self, request, model_admin):
        return [(a.unipile_account_id, a.name) for a in _visible_accounts(request.user).order_by("name")[:200]]

    def queryset(self, request, queryset):
        return queryset.filter(account_id=self.value()) if self.value() else queryset


def _visible_accounts(user):
    if user.is_superuser:
        return LinkedInAccount.objects.all()
    return LinkedInAccount.objects.filter(client__in=client_ids_for(user))


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["received_at", "source", "event", "account_id", "status", "short_error"]
    list_filter = ["source", "event", "status", AccountIdFilter]
    actions = ["reprocess", "mark_ignored"]
    search_fields = ["account_id", "dedupe_key"]
    date_hierarchy = "received_at"
    show_full_result_count = False
    readonly_fields = [
        "source",
        "event",
        "account_id",
        "status",
        "error",
        "attempts",
        "dedupe_key",
        "received_at",
        "processed_at",
        "pretty_headers",
        "pretty_body",
    ]
    exclude = ["headers", "body"]

    def get_queryset(self, request):
        # Deliveries carry message texts: other staff see those of their clients' accounts only (Resend's
        # deliveries, which belong to no account, are the superusers').
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(account_id__in=_visible_accounts(request.user).values("unipile_account_id"))

    @admin.display(description="result")
    def short_error(self, obj):
        return truncated(obj.error, 80)

    @admin.action(description="Process selected deliveries again")
    def reprocess(self, request, queryset):
        results = [webhooks.delivery_reprocess(delivery) for delivery in queryset[:500]]
        summary = ", ".join(f"{results.count(r)} {r}" for r in sorted(set(results)))
        self.message_user(request, f"Reprocessed: {summary}.", messages.SUCCESS)

    @admin.action(description="Mark selected deliveries ignored")
    def mark_ignored(self, request, queryset):
        count = 0
        for delivery in queryset[:500]:
            webhooks.delivery_ignore(delivery)
            count += 1
        self.message_user(request, f"{count} deliver{'y' if count == 1 else 'ies'} marked ignored.", messages.SUCCESS)

    @admin.display(description="headers")
    def pretty_headers(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.headers, indent=2, sort_keys=True))

    @admin.display(description="body")
    def pretty_body(self, obj):
        try:
            text = json.dumps(json.loads(obj.body), indent=2, ensure_ascii=False)
        except ValueError:
            text = obj.body
        return format_html('<pre style="white-space:pre-wrap">{}</pre>', text)


@admin.register(SyncState)
class SyncStateAdmin(ClientScopedAdminMixin, admin.ModelAdmin):
    client_field = "account__client"

    list_display = ["account", "job", "last_run_at", "last_ok", "last_result", "cursor"]
    list_filter = ["job", "last_ok", "account__client"]
    search_fields = ["account__name"]
    list_select_related = ["account"]
    readonly_fields = ["account", "job", "cursor", "last_run_at", "last_result", "last_ok"]

    def has_add_permission(self, request):
        return False


@admin.register(AccountStatusChange)
class AccountStatusChangeAdmin(ClientScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    client_field = "account__client"
    list_display = ["occurred_at", "account", "previous", "status", "source", "detail"]
    list_filter = ["status", "source", "account__client"]
    search_fields = ["account__name", "account__unipile_account_id"]
    list_select_related = ["account"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False


@admin.register(HostedAuthLink)
class HostedAuthLinkAdmin(ClientScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "kind", "client", "account", "requested_by", "expires_at", "used_at", "result"]
    list_filter = ["kind", "client"]
    list_select_related = ["client", "account", "requested_by"]
    search_fields = ["public_id", "account__name", "client__name"]
    exclude = ["secret_digest"]
    date_hierarchy = "created_at"


@admin.register(AccountNotice)
class AccountNoticeAdmin(ClientScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    client_field = "account__client"
    list_display = ["created_at", "account", "kind", "period_start", "status", "sent_at", "short_error"]
    list_filter = ["kind", "status", "account__client"]
    list_select_related = ["account"]
    search_fields = ["account__name", "recipients"]
    date_hierarchy = "created_at"

    @admin.display(description="error")
    def short_error(self, obj):
        return truncated(obj.error, 80)


class EndpointForm(forms.ModelForm):
    """Saving an endpoint checks where it points (https, a public address) and the event types it asks for."""

    events = forms.MultipleChoiceField(
        choices=[(name, f"{name}: {text}") for name, text in EVENT_TYPES.items() if name != "ping"],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["client", "url", "description", "events", "enabled"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            check_target(url)
        except UnsafeTarget as exc:
            raise forms.ValidationError(str(exc)) from None
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ClientScopedAdminMixin, admin.ModelAdmin):
    client_level = MANAGE  # as in the API: a client's endpoints (and their secrets) are its admins' business
    form = EndpointForm
    list_display = ["url", "client", "enabled", "event_list", "consecutive_failures", "disabled_reason", "log_link"]
    list_filter = ["enabled", "client"]
    search_fields = ["url", "description", "client__name"]
    list_select_related = ["client"]
    readonly_fields = ["consecutive_failures", "disabled_reason", "previous_secret_expires_at", "created_at"]
    actions = ["send_ping", "rotate_secret", "enable_endpoints"]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "client"] if obj is not None else fields

    @admin.display(description="events")
    def event_list(self, obj):
        return ", ".join(obj.events) if obj.events else "every event"

    @admin.display(description="delivery log")
    def log_link(self, obj):
        url = reverse("admin:integrations_eventdelivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        return format_html('<a href="{}">Deliveries</a>', url)

    def _secret_page(self, request, endpoint, title):
        response = TemplateResponse(
            request,
            "admin/integrations/webhookendpoint/secret.html",
            {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, "endpoint": endpoint},
        )
        response["Cache-Control"] = "no-store"
        return response

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created = endpoint_create(
            client=form.cleaned_data["client"],
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            description=form.cleaned_data["description"],
            enabled=form.cleaned_data["enabled"],
        )
        obj.pk = created.pk
        obj.refresh_from_db()
        return None

    def response_add(self, request, obj, post_url_continue=None):
        # The secret is shown here, once, never in a message (a cookie) or a log.
        return self._secret_page(request, obj, "Webhook endpoint added")

    @admin.action(description="Send a test ping")
    def send_ping(self, request, queryset):
        for endpoint in queryset[:20]:
            if not endpoint.enabled:
                self.message_user(request, f"{endpoint}: disabled, nothing sent.", messages.WARNING)
                continue
            delivery = endpoint_ping(endpoint=endpoint)
            if delivery.status == EventDelivery.Status.DELIVERED:
                self.message_user(
                    request,
                    f"{endpoint}: ping delivered (HTTP {delivery.last_status_code}, {delivery.last_latency_ms} ms).",
                )
            else:
                self.message_user(request, f"{endpoint}: ping failed ({delivery.last_error}).", messages.ERROR)

    @admin.action(description="Rotate the secret (the old one stays valid for 24 hours)")
    def rotate_secret(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Rotate one endpoint at a time: its new secret is shown once.", messages.ERROR)
            return None
        endpoint = endpoint_rotate_secret(endpoint=queryset.get())
        return self._secret_page(request, endpoint, "New signing secret")

    @admin.action(description="Enable again (after fixing the receiver)")
    def enable_endpoints(self, request, queryset):
        for endpoint in queryset:
            endpoint_enable(endpoint=endpoint)
        self.message_user(request, f"{queryset.count()} endpoint(s) enabled. Replay what they missed from the log.")


@admin.register(EventDelivery)
class EventDeliveryAdmin(ClientScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    client_field = "endpoint__client"
    client_level = MANAGE
    list_display = [
        "created_at", "event_type", "endpoint", "status", "attempts", "last_status_code", "last_latency_ms",
        "next_attempt_at", "short_error",
    ]  # fmt: skip
    list_filter = ["status", "event__type", "endpoint"]
    list_select_related = ["event", "endpoint"]
    search_fields = ["event__public_id", "endpoint__url"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["replay"]
    readonly_fields = [
        "event", "endpoint", "status", "attempts", "next_attempt_at", "last_status_code", "last_error",
        "last_latency_ms", "response_excerpt", "created_at", "delivered_at", "payload",
    ]  # fmt: skip
    exclude = ["lease_until", "order_key"]

    @admin.display(description="event", ordering="event__type")
    def event_type(self, obj):
        return obj.event.type

    @admin.display(description="error")
    def short_error(self, obj):
        return truncated(obj.last_error, 60)

    @admin.display(description="body sent")
    def payload(self, obj):
        return format_html(
            '<pre style="white-space:pre-wrap">{}</pre>', json.dumps(obj.event.payload, indent=2, ensure_ascii=False)
        )

    @admin.action(description="Replay the selected deliveries (select all to replay a time range)")
    def replay(self, request, queryset):
        count = deliveries_replay(deliveries=queryset)
        from .tasks import kick_outbound

        kick_outbound()
        self.message_user(request, f"{count} deliver{'y' if count == 1 else 'ies'} queued again.")
