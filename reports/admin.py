from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from integrations.admin import LinkedInAccountAdmin
from integrations.mailer import MailError, mailer_configured, send_email
from integrations.models import LinkedInAccount
from outreach.admin_utils import ClientScopedAdminMixin, require_client
from outreach.models import Client
from outreach.tenancy import MANAGE, READ

from . import emails
from .health import account_health
from .models import ReportDelivery, ReportOptOut
from .tasks import send_weekly_report


def _with_week_picker(html: str, path: str, week: str, today) -> str:
    """The preview only: a bar above the email to pick the week (the email itself is unchanged)."""
    import datetime as dt

    year, number = emails.parse_week(week)
    monday = dt.date.fromisocalendar(year, number, 1)
    previous = emails.week_label(monday - dt.timedelta(days=7))
    following = emails.week_label(monday + dt.timedelta(days=7))
    current = emails.week_label(today)
    bar = format_html(
        '<div style="font-family:Arial,sans-serif;background:#1d2430;color:#fff;padding:10px 16px;font-size:14px">'
        '<form method="get" action="{}" style="display:flex;gap:10px;align-items:center;margin:0">'
        "<strong>Preview of week {}</strong>"
        '<a style="color:#9ecbff" href="{}?week={}">&larr; {}</a>'
        '<input type="week" name="week" value="{}" aria-label="Week">'
        '<button type="submit">Show</button>'
        '{}<a style="color:#9ecbff" href="{}?week={}">{} &rarr;</a>'
        '<a style="color:#9ecbff;margin-left:auto" href="{}?week={}&amp;format=text">Text version</a>'
        "</form></div>",
        path, week, path, previous, previous, f"{year}-W{number:02d}",
        format_html('<a style="color:#9ecbff" href="{}">This week ({})</a>', path, current) if week != current else "",
        path, following, following, path, week,
    )  # fmt: skip
    head, marker, rest = html.partition("<body")
    if not marker:
        return bar + html
    opening, _, body = rest.partition(">")
    return f"{head}<body{opening}>{bar}{body}"


class SendNowForm(forms.Form):
    email = forms.EmailField(help_text="Sent to this address only; the weekly delivery to the client is not affected.")
    week = forms.CharField(max_length=8, help_text="ISO week, like 2026-W47.")

    def clean_week(self):
        value = self.cleaned_data["week"].strip().upper()
        try:
            emails.parse_week(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        return value


@admin.register(ReportDelivery)
class ReportDeliveryAdmin(ClientScopedAdminMixin, admin.ModelAdmin):
    list_display = [
        "period",
        "kind",
        "client",
        "status",
        "recipient_count",
        "sent_count",
        "attempts",
        "short_error",
        "created_at",
    ]
    list_filter = ["kind", "status", "client"]
    search_fields = ["period", "client__name"]
    list_select_related = ["client"]
    date_hierarchy = "created_at"
    actions = ["retry"]
    readonly_fields = [
        "client",
        "kind",
        "period",
        "status",
        "subject",
        "recipients",
        "sent_to",
        "outcomes",
        "attempts",
        "error",
        "claimed_at",
        "created_at",
        "sent_at",
        "rendered",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method == "GET" and super().has_change_permission(request, obj)

    @admin.display(description="recipients")
    def recipient_count(self, obj):
        return len(obj.recipients)

    @admin.display(description="sent")
    def sent_count(self, obj):
        return len(obj.sent_to)

    @admin.display(description="error")
    def short_error(self, obj):
        return obj.error[:80]

    @admin.display(description="email as rendered")
    def rendered(self, obj):
        if not obj.html:
            return "—"
        return format_html(
            '<iframe srcdoc="{}" sandbox="" style="width:100%;max-width:680px;height:640px;border:1px solid #ddd"></iframe>',
            obj.html,
        )

    @admin.action(description="Retry the selected failed weekly reports")
    def retry(self, request, queryset):
        retried = 0
        for delivery in queryset.filter(kind=ReportDelivery.Kind.WEEKLY, status__in=["failed", "retrying"]):
            ReportDelivery.objects.filter(pk=delivery.pk).update(status=ReportDelivery.Status.RETRYING, error="")
            send_weekly_report.delay(delivery.client_id, delivery.period)
            retried += 1
        level = messages.SUCCESS if retried else messages.WARNING
        self.message_user(request, f"{retried} report(s) queued again (only failed weekly reports are retried).", level)

    def get_urls(self):
        return [
            path("preview/<int:client_id>/", self.admin_site.admin_view(self.preview_view), name="reports_preview"),
            path("send-now/<int:client_id>/", self.admin_site.admin_view(self.send_now_view), name="reports_send_now"),
            *super().get_urls(),
        ]

    def _client(self, client_id):
        client = Client.objects.filter(pk=client_id).first()
        if client is None:
            raise Http404("No such client.")
        return client

    def preview_view(self, request, client_id):
        """A week's report as the client would get it, with today's numbers: the current week unless another is
        picked (the first days of a week are not all zeros any more: last week is one click away)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        client = self._client(client_id)
        require_client(request, client.pk, READ)
        today = timezone.localtime(timezone.now(), ZoneInfo(str(client.timezone))).date()
        week = (request.GET.get("week") or "").strip().upper() or emails.week_label(today)
        try:
            content = emails.weekly_content(client, week)
        except ValueError as exc:
            return HttpResponse(f"{exc}", status=400, content_type="text/plain; charset=utf-8")
        recipient = (client.report_recipient_list or ["recipient@example.com"])[0]
        html, text = emails.render_weekly(content, recipient)
        if request.GET.get("format") == "text":
            return HttpResponse(text, content_type="text/plain; charset=utf-8")
        return HttpResponse(_with_week_picker(html, request.path, week, today))

    def send_now_view(self, request, client_id):
        # Deliveries are the system's rows (no add form), but sending one by hand is adding one: the model's
        # add permission is what an operator needs.
        if not request.user.has_perm("reports.add_reportdelivery"):
            raise PermissionDenied
        client = self._client(client_id)
        require_client(request, client.pk, MANAGE)
        week = emails.due_week(client, timezone.now())
        form = SendNowForm(request.POST or None, initial={"week": week, "email": request.user.email})
        if request.method == "POST" and form.is_valid():
            if not mailer_configured():
                form.add_error(None, "RESEND_API_KEY is not set: nothing can be sent. Use the preview instead.")
            else:
                content = emails.weekly_content(client, form.cleaned_data["week"])
                address = form.cleaned_data["email"]
                html, text = emails.render_weekly(content, address)
                try:
                    send_email(
                        to=address,
                        subject=content.subject,
                        html=html,
                        text=text,
                        idempotency_key=f"weekly-report-manual/{client.slug}/{content.week}/{address}/{timezone.now():%Y%m%d%H%M%S}",
                    )
                except MailError as exc:
                    form.add_error(None, f"Not sent: {exc}")
                else:
                    LogEntry.objects.log_actions(
                        user_id=request.user.pk,
                        queryset=[client],
                        action_flag=CHANGE,
                        change_message=f"Weekly report {content.week} sent by hand to {address}.",
                        single_object=True,
                    )
                    self.message_user(
                        request, f"Report {content.week} of {client} sent to {address}.", messages.SUCCESS
                    )
                    return redirect(reverse("admin:outreach_client_change", args=[client.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Send the weekly report of {client} now",
            "form": form,
            "client": client,
            "preview_url": reverse("admin:reports_preview", args=[client.pk]),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/reports/send_now.html", context)


@admin.register(ReportOptOut)
class ReportOptOutAdmin(ClientScopedAdminMixin, admin.ModelAdmin):
    list_display = ["email", "client", "reason", "created_at"]
    list_filter = ["reason", "client"]
    search_fields = ["email"]
    list_select_related = ["client"]


# The admin home is the operator's dashboard (reports/dashboard.py): today per client and account.
admin.site.index_template = "admin/dashboard_index.html"


class AccountHealthAdmin(LinkedInAccountAdmin):
    """The account admin with its health page, which reads leads, events and campaigns (later apps than
    integrations): registered here in place of integrations' own, as the lead admin lives in campaigns."""

    def get_urls(self):
        return [
            path(
                "<int:pk>/health/",
                self.admin_site.admin_view(self.health_view),
                name="integrations_linkedinaccount_health",
            ),
            *super().get_urls(),
        ]

    def health_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        account = self.get_queryset(request).filter(pk=pk).select_related("client").first()
        if account is None:
            raise Http404("No such account.")
        require_client(request, account.client_id, READ)
        return TemplateResponse(
            request,
            "admin/integrations/linkedinaccount/health.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": f"Health of {account}",
                "account": account,
                "health": account_health(account),
                "may_reconnect": self.has_change_permission(request, account),
            },
        )


admin.site.unregister(LinkedInAccount)
admin.site.register(LinkedInAccount, AccountHealthAdmin)
