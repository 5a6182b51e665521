"""Admin for lead sources: "Add leads from LinkedIn" on a campaign, and each source's page with its progress."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import path, reverse
from django.utils.html import format_html

from integrations.models import LinkedInAccount
from outreach.admin_utils import ClientScopedAdminMixin, require_client
from outreach.tenancy import WORK

from .models import Campaign, LeadSource, LeadSourcePerson
from .sources import (
    SourceRefused,
    lead_source_cancel,
    lead_source_check,
    lead_source_create,
    lead_source_pause,
    lead_source_rerun,
    lead_source_resume,
)


class LeadSourceForm(forms.ModelForm):
    engagers = forms.ChoiceField(
        choices=[("reactions", "People who reacted"), ("comments", "People who commented")],
        initial="reactions",
        help_text="For a post: whom to import.",
    )

    class Meta:
        model = LeadSource
        fields = ["campaign", "account", "url", "engagers", "max_leads", "first_degree", "working_hours_only"]
        help_texts = {
            "url": "A LinkedIn people search, a Sales Navigator search or lead list, or a post: copy it from the "
            "browser's address bar."
        }


class PersonInline(admin.TabularInline):
    model = LeadSourcePerson
    fields = ["name", "provider_id", "outcome", "reason", "lead", "found_at"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False
    verbose_name_plural = "people found (the latest 100)"

    def get_queryset(self, request):
        queryset = super().get_queryset(request).order_by("-found_at", "-id")
        ids = list(queryset.values_list("pk", flat=True)[:100])
        return queryset.filter(pk__in=ids)


@admin.register(LeadSource)
class LeadSourceAdmin(ClientScopedAdminMixin, admin.ModelAdmin):
    client_field = "campaign__client"
    form = LeadSourceForm
    list_display = [
        "__str__",
        "campaign",
        "account",
        "status",
        "progress",
        "imported",
        "found",
        "stop_reason",
        "created_at",
    ]
    list_filter = ["status", "kind", "campaign__client"]
    list_select_related = ["campaign", "account"]
    search_fields = ["url", "campaign__name"]
    inlines = [PersonInline]
    actions = ["pause", "resume", "cancel", "rerun"]

    class Media:
        js = ["campaigns/source_progress.js"]

    readonly_fields = [
        "kind", "status", "progress", "stop_reason", "pages_read", "found", "imported", "skipped_by_reason",
        "next_run_at", "runs", "created_by", "created_at", "finished_at",
    ]  # fmt: skip

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # the people found exist once the source runs

    def get_fields(self, request, obj=None):
        if obj is None:
            return list(LeadSourceForm.Meta.fields)
        return ["campaign", "account", "url", *self.readonly_fields, "max_leads", "first_degree", "working_hours_only"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [*self.readonly_fields, "campaign", "account", "url", "max_leads", "first_degree", "working_hours_only"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "account":
            field.queryset = field.queryset.exclude(status=LinkedInAccount.Status.DELETED)
        return field

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        campaign = Campaign.objects.filter(pk=request.GET.get("campaign") or 0).first()
        if campaign is not None:
            first = campaign.senders.order_by("name").first()
            initial.update(campaign=campaign.pk, account=first.pk if first else None)
        return initial

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        data = form.cleaned_data
        require_client(request, data["campaign"].client_id, WORK)
        created = lead_source_create(
            campaign=data["campaign"], account=data["account"], url=data["url"], engagers=data["engagers"],
            max_leads=data["max_leads"], first_degree=data["first_degree"],
            working_hours_only=data["working_hours_only"], user=request.user,
        )  # fmt: skip
        obj.pk = created.pk
        obj.refresh_from_db()
        return None

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is not None:
            return form

        class Checked(form):
            def clean(self):
                data = super().clean()
                if self.errors:
                    return data
                try:
                    lead_source_check(
                        campaign=data["campaign"], account=data["account"], url=data["url"],
                        engagers=data["engagers"], max_leads=data["max_leads"], first_degree=data["first_degree"],
                    )  # fmt: skip
                except SourceRefused as exc:
                    self.add_error(exc.field if exc.field in self.fields else None, str(exc))
                return data

        return Checked

    @admin.display(description="progress")
    def progress(self, obj):
        share = min(100, round(100 * obj.imported / obj.max_leads)) if obj.max_leads else 0
        return format_html(
            '<div class="source-progress" data-url="{}"><div style="width:220px;height:10px;background:#e8efff;'
            'border-radius:5px;overflow:hidden;display:inline-block;vertical-align:middle"><div style="width:{}%;'
            'height:100%;background:#2457c5"></div></div> <span>{} / {} imported · {} found · {} skipped · '
            "{} page(s)</span></div>",
            reverse("admin:campaigns_leadsource_progress", args=[obj.pk]), share, obj.imported, obj.max_leads,
            obj.found, obj.skipped_total, obj.pages_read,
        )  # fmt: skip

    @admin.display(description="skipped, by reason")
    def skipped_by_reason(self, obj):
        if not obj.skipped:
            return "—"
        return ", ".join(f"{reason.replace('_', ' ')}: {count}" for reason, count in sorted(obj.skipped.items()))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/progress", view(self.progress_view), name="campaigns_leadsource_progress"),
            path("<int:pk>/do/<str:operation>", view(self.operate_view), name="campaigns_leadsource_operate"),
            *super().get_urls(),
        ]

    OPERATIONS = {
        "pause": (lead_source_pause, "paused"),
        "resume": (lead_source_resume, "resumed"),
        "cancel": (lead_source_cancel, "cancelled"),
        "rerun": (lead_source_rerun, "started again: only new people come in"),
    }

    def operate_view(self, request, pk, operation):
        """The buttons on a source's page (POST): pause, resume, cancel, run again."""
        if request.method != "POST" or operation not in self.OPERATIONS:
            raise PermissionDenied
        source = self.get_queryset(request).filter(pk=pk).select_related("campaign").first()
        if source is None or not self.has_change_permission(request, source):
            raise PermissionDenied
        require_client(request, source.campaign.client_id, WORK)
        service, done = self.OPERATIONS[operation]
        try:
            service(source=source)
            self.message_user(request, f"{source}: {done}.")
        except SourceRefused as exc:
            self.message_user(request, str(exc), messages.WARNING)
        return HttpResponseRedirect(reverse("admin:campaigns_leadsource_change", args=[source.pk]))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            allowed = {
                "pause": obj.status == LeadSource.Status.RUNNING,
                "resume": obj.status == LeadSource.Status.PAUSED,
                "cancel": obj.status in LeadSource.OPEN_STATUSES,
                "rerun": obj.status not in LeadSource.OPEN_STATUSES,
            }
            labels = {"pause": "Pause", "resume": "Resume", "cancel": "Cancel", "rerun": "Run again"}
            context["operations"] = [(name, labels[name]) for name, ok in allowed.items() if ok]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def progress_view(self, request, pk):
        """Polled by the source's page while it runs."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        source = self.get_queryset(request).filter(pk=pk).first()
        if source is None:
            return JsonResponse({"error": "not found"}, status=404)
        return JsonResponse({
            "status": source.get_status_display(), "running": source.status == LeadSource.Status.RUNNING,
            "found": source.found, "imported": source.imported, "skipped": source.skipped_total,
            "pages": source.pages_read, "max": source.max_leads, "stop_reason": source.stop_reason,
        })  # fmt: skip

    def _act(self, request, queryset, operation, done):
        count = 0
        for source in queryset:
            require_client(request, source.campaign.client_id, WORK)
            try:
                operation(source=source)
                count += 1
            except SourceRefused as exc:
                self.message_user(request, f"{source}: {exc}", messages.WARNING)
        if count:
            self.message_user(request, f"{count} source(s) {done}.")

    @admin.action(description="Pause the selected sources")
    def pause(self, request, queryset):
        self._act(request, queryset, lead_source_pause, "paused")

    @admin.action(description="Resume the selected sources")
    def resume(self, request, queryset):
        self._act(request, queryset, lead_source_resume, "resumed")

    @admin.action(description="Cancel the selected sources")
    def cancel(self, request, queryset):
        self._act(request, queryset, lead_source_cancel, "cancelled")

    @admin.action(description="Run again to pick up new people (nobody twice)")
    def rerun(self, request, queryset):
        self._act(request, queryset, lead_source_rerun, "started again")
