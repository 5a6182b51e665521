"""The lead pages of the admin: they live with the engine, which they explain (why a lead waits) and drive
(move, requeue), since code imports only leftwards and leads sits left of campaigns."""

import datetime as dt
import re

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import models
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from leads import importing
from leads.models import Lead
from leads.selectors import EXPORT_HEADER, lead_export_rows, lead_failed_attempts
from leads.services import (
    InvalidTransition,
    LeadActionRefused,
    LeadRefused,
    lead_add_to_do_not_contact,
    lead_check,
    lead_create,
    lead_mark_replied,
    lead_move,
    lead_pause,
    lead_requeue,
    lead_resume,
)
from leads.timeline import lead_timeline
from outreach.admin_utils import ClientScopedAdminMixin, intermediate_page, require_client, run_bulk, truncated
from outreach.csvutils import streaming_csv_response
from outreach.tenancy import WORK

from .models import Campaign
from .selectors import lead_blocker

IMPORT_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,40}$")
LEAD_REFUSALS = (InvalidTransition, LeadActionRefused)


class MoveForm(forms.Form):
    campaign = forms.ModelChoiceField(
        queryset=Campaign.objects.exclude(status="archived").select_related("client"),
        help_text="Leads start over at the first step there; they keep their sender account.",
    )


class DncReasonForm(forms.Form):
    reason = forms.CharField(max_length=300, required=False, widget=forms.TextInput(attrs={"size": 60}))


class ImportUploadForm(forms.Form):
    campaign = forms.ModelChoiceField(queryset=Campaign.objects.exclude(status="archived").select_related("client"))
    file = forms.FileField(
        help_text="A CSV file with a header line; UTF-8, UTF-16 or Latin-1; comma, semicolon or tab."
    )


class ImportMappingForm(forms.Form):
    def __init__(self, *args, headers: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        choices = [("", "— not in the file —")] + [(h, h) for h in headers]
        for name, (label, _max, _spellings) in importing.TARGET_FIELDS.items():
            self.fields[name] = forms.ChoiceField(label=label, choices=choices, required=name == "linkedin")
        self.fields["custom"] = forms.MultipleChoiceField(
            label="Keep as custom fields",
            choices=[(h, h) for h in headers],
            required=False,
            widget=forms.CheckboxSelectMultiple,
            help_text="Other columns you want to use in templates, e.g. {city}.",
        )

    def clean(self):
        data = super().clean()
        used = [data.get(name) for name in importing.TARGET_FIELDS if data.get(name)]
        repeated = {h for h in used if used.count(h) > 1}
        if repeated:
            raise forms.ValidationError(f"Each column maps to one field; used twice: {', '.join(sorted(repeated))}.")
        return data

    def mapping(self) -> importing.Mapping:
        fields = {name: self.cleaned_data[name] for name in importing.TARGET_FIELDS if self.cleaned_data.get(name)}
        custom = [h for h in self.cleaned_data.get("custom", []) if h not in fields.values()]
        return importing.Mapping(fields=fields, custom=custom)


class LeadAddForm(forms.ModelForm):
    """A lead added by hand goes through the import's checks: identifier, duplicates, do-not-contact."""

    linkedin = forms.CharField(
        label="LinkedIn", max_length=500, help_text="Profile URL, public identifier or member id (ACo…)."
    )

    class Meta:
        model = Lead
        fields = ["campaign", "first_name", "last_name", "company", "title", "email", "custom_fields"]

    def record(self) -> dict:
        data = self.cleaned_data
        record = {name: data.get(name) or "" for name in importing.TARGET_FIELDS if name in data}
        if data.get("custom_fields"):
            record["custom_fields"] = data["custom_fields"]
        return record

    def clean(self):
        cleaned = super().clean()
        if self.errors or not cleaned.get("campaign"):
            return cleaned
        result = lead_check(campaign=cleaned["campaign"], record=self.record())
        if result.outcome == importing.Outcome.INVALID:
            self.add_error("linkedin" if "LinkedIn" in result.reason else None, result.reason)
        elif result.outcome != importing.Outcome.NEW:
            self.add_error(None, result.reason)
        return cleaned


@admin.register(Lead)
class LeadAdmin(ClientScopedAdminMixin, admin.ModelAdmin):
    client_field = "campaign__client"

    list_display = [
        "__str__",
        "company",
        "campaign",
        "status",
        "current_step",
        "sender",
        "next_action_at",
        "short_error",
    ]
    list_filter = ["status", "campaign__client", "campaign", "sender"]
    search_fields = ["first_name", "last_name", "company", "public_identifier", "provider_id", "email"]
    list_select_related = ["campaign", "sender"]
    autocomplete_fields = ["campaign", "sender"]
    # What the engine owns changes only through the actions (pause, resume, requeue, move...), as in the API.
    readonly_fields = [
        "timeline",
        "waiting_for",
        "failed_attempts",
        "campaign",
        "linkedin_url",
        "public_identifier",
        "provider_id",
        "next_action_at",
        "sender",
        "status",
        "resume_status",
        "current_step",
        "step",
        "condition_until",
        "invited_at",
        "connected_at",
        "replied_at",
        "last_error",
        "created_at",
        "updated_at",
        "chat_id",
    ]
    show_full_result_count = False
    list_per_page = 50

    class Media:
        css = {"all": ["campaigns/sequence.css"]}

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    actions = [
        "pause_leads",
        "resume_leads",
        "requeue_errored",
        "mark_replied",
        "move_leads",
        "add_to_do_not_contact",
        "export_csv",
    ]
    fieldsets = [
        (None, {"fields": ["campaign", "first_name", "last_name", "company", "title", "email"]}),
        ("LinkedIn", {"fields": ["linkedin_url", "public_identifier", "provider_id", "custom_fields"]}),
        (
            "Sequence",
            {
                "fields": [
                    "waiting_for",
                    "failed_attempts",
                    "status",
                    "resume_status",
                    "current_step",
                    "step",
                    "condition_until",
                    "next_action_at",
                    "sender",
                    "chat_id",
                    "invited_at",
                    "connected_at",
                    "replied_at",
                    "last_error",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
        ("Timeline", {"fields": ["timeline"]}),
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = LeadAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (
                    None,
                    {
                        "fields": [
                            "campaign",
                            "linkedin",
                            "first_name",
                            "last_name",
                            "company",
                            "title",
                            "email",
                            "custom_fields",
                        ]
                    },
                )
            ]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        try:
            lead = lead_create(campaign=form.cleaned_data["campaign"], record=form.record())
        except LeadRefused as exc:  # another add got there between the form's check and this save
            raise forms.ValidationError(exc.reason) from None
        for field in Lead._meta.concrete_fields:
            setattr(obj, field.attname, getattr(lead, field.attname))
        obj._state.adding, obj._state.db = False, lead._state.db
        return None

    @admin.display(description="timeline")
    def timeline(self, obj):
        """Newest first, in the campaign's timezone (UTC on hover), with a link to the conversation."""
        if not obj.pk:
            return "—"
        entries = lead_timeline(obj, limit=100)
        if not entries:
            return format_html('<p class="help">Nothing has happened to this lead yet.</p>')
        zone = obj.campaign.timezone
        rows = format_html_join(
            "",
            '<tr><td class="nowrap"><span title="{} UTC">{}</span></td><td><strong>{}</strong>{}</td><td>{}</td>'
            "<td>{}</td></tr>",
            (
                (
                    f"{entry.at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S}",
                    f"{entry.local(zone):%Y-%m-%d %H:%M}",
                    entry.title,
                    format_html('<div class="timeline-detail">{}</div>', truncated(entry.detail, 400))
                    if entry.detail
                    else "",
                    entry.actor or "",
                    format_html(
                        '<a href="{}">conversation</a>', reverse("inbox:conversation", args=[entry.conversation_id])
                    )
                    if entry.conversation_id
                    else "",
                )
                for entry in entries
            ),
        )
        return format_html(
            '<table class="timeline"><thead><tr><th>When ({})</th><th>What</th><th>Who</th><th></th></tr></thead>'
            "<tbody>{}</tbody></table>",
            zone,
            rows,
        )

    @admin.display(description="waiting for")
    def waiting_for(self, obj):
        return lead_blocker(obj) if obj.pk else "—"

    @admin.display(description="attempts that did not go through")
    def failed_attempts(self, obj):
        attempts = lead_failed_attempts(obj) if obj.pk else []
        if not attempts:
            return "None."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    timezone.localtime(event.occurred_at).strftime("%Y-%m-%d %H:%M:%S"),
                    event.data.get("action", ""),
                    event.data.get("attempt", ""),
                    event.data.get("kind", ""),
                    " ".join(
                        str(part)
                        for part in (event.data.get("provider_status"), event.data.get("provider_type"))
                        if part
                    ),
                    truncated(event.data.get("detail", ""), 160),
                    event.data.get("retry_at") or "",
                )
                for event in attempts
            ),
        )
        return format_html(
            '<table class="failed-attempts"><thead><tr><th>when</th><th>action</th><th>attempt</th><th>outcome</th>'
            "<th>provider said</th><th>detail</th><th>next try or check</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )

    @admin.display(description="last error")
    def short_error(self, obj):
        return truncated(obj.last_error)

    # --- actions ---

    @admin.action(description="Pause selected leads")
    def pause_leads(self, request, queryset):
        run_bulk(
            self,
            request,
            queryset,
            lambda lead: lead_pause(lead=lead, actor=request.user),
            done="lead(s) paused",
            refused_errors=LEAD_REFUSALS,
        )

    @admin.action(description="Resume selected leads")
    def resume_leads(self, request, queryset):
        run_bulk(
            self,
            request,
            queryset,
            lambda lead: lead_resume(lead=lead, actor=request.user),
            done="lead(s) resumed and due now",
            refused_errors=LEAD_REFUSALS,
        )

    @admin.action(description="Requeue errored leads (clear the error, due now)")
    def requeue_errored(self, request, queryset):
        run_bulk(
            self,
            request,
            queryset,
            lambda lead: lead_requeue(lead=lead, actor=request.user),
            done="lead(s) requeued",
            refused_errors=LEAD_REFUSALS,
        )

    @admin.action(description="Mark selected leads replied (stops their sequence)")
    def mark_replied(self, request, queryset):
        run_bulk(
            self,
            request,
            queryset,
            lambda lead: lead_mark_replied(lead=lead, actor=request.user),
            done="lead(s) marked replied",
            refused_errors=LEAD_REFUSALS,
        )

    @admin.action(description="Move selected leads to another campaign…")
    def move_leads(self, request, queryset):
        form = intermediate_page(
            self, request, queryset, form_class=MoveForm, title="Move leads to another campaign", submit_label="Move"
        )
        if not isinstance(form, MoveForm):
            return form
        target = form.cleaned_data["campaign"]
        run_bulk(
            self,
            request,
            queryset,
            lambda lead: lead_move(lead=lead, campaign=target, actor=request.user),
            done=f"lead(s) moved to {target}",
            refused_errors=LEAD_REFUSALS,
        )
        return None

    @admin.action(description="Add selected leads to the do-not-contact list…")
    def add_to_do_not_contact(self, request, queryset):
        form = intermediate_page(
            self,
            request,
            queryset,
            form_class=DncReasonForm,
            title="Add leads to the do-not-contact list",
            submit_label="Add to do-not-contact",
            description="Their identifiers and emails go on their client's list; nobody in any campaign of that "
            "client will contact them.",
        )
        if not isinstance(form, DncReasonForm):
            return form
        reason = form.cleaned_data["reason"]
        run_bulk(
            self,
            request,
            queryset.select_related("campaign__client"),
            lambda lead: lead_add_to_do_not_contact(lead=lead, reason=reason, user=request.user),
            done="lead(s) added to do-not-contact",
            refused_errors=LEAD_REFUSALS,
        )
        return None

    @admin.action(description="Export selected leads as CSV")
    def export_csv(self, request, queryset):
        return streaming_csv_response(
            f"leads-{timezone.now():%Y%m%d-%H%M}.csv", EXPORT_HEADER, lead_export_rows(queryset)
        )

    # --- import ---

    def get_urls(self):
        return [
            path("import/", self.admin_site.admin_view(self.import_upload_view), name="leads_lead_import"),
            path("import/<str:token>/", self.admin_site.admin_view(self.import_map_view), name="leads_lead_import_map"),
            *super().get_urls(),
        ]

    def _import_context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, **extra}

    def import_upload_view(self, request):
        if not self.has_add_permission(request):
            raise Http404
        form = ImportUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                stored = importing.save_upload(
                    form.cleaned_data["file"], settings.IMPORT_DIR, settings.LEAD_IMPORT_MAX_BYTES
                )
                importing.open_csv(stored)
            except importing.LeadImportError as exc:
                form.add_error("file", str(exc))
            else:
                require_client(request, form.cleaned_data["campaign"].client_id, WORK)
                url = reverse("admin:leads_lead_import_map", args=[stored.stem])
                return redirect(f"{url}?campaign={form.cleaned_data['campaign'].pk}")
        context = self._import_context(request, title="Import leads from CSV", form=form)
        return TemplateResponse(request, "admin/leads/import_upload.html", context)

    def import_map_view(self, request, token):
        if not self.has_add_permission(request) or not IMPORT_TOKEN_RE.match(token):
            raise Http404
        stored = settings.IMPORT_DIR / f"{token}.csv"
        campaign = Campaign.objects.filter(pk=request.GET.get("campaign") or 0).select_related("client").first()
        if not stored.is_file() or campaign is None:
            self.message_user(request, "That import is no longer available; upload the file again.", messages.ERROR)
            return redirect("admin:leads_lead_import")
        require_client(request, campaign.client_id, WORK)
        try:
            source = importing.open_csv(stored)
        except importing.LeadImportError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return redirect("admin:leads_lead_import")

        if request.method == "POST":
            form = ImportMappingForm(request.POST, headers=source.headers)
        else:
            guessed = importing.guess_mapping(source.headers)
            initial = {**guessed, "custom": [h for h in source.headers if h not in guessed.values()]}
            # With a LinkedIn column recognised, the preview shows at once; otherwise the operator maps first.
            if guessed.get("linkedin"):
                form = ImportMappingForm(initial, headers=source.headers)
            else:
                form = ImportMappingForm(initial=initial, headers=source.headers)

        summary = None
        if form.is_bound and form.is_valid():
            mapping = form.mapping()
            try:
                if request.method == "POST" and "confirm" in request.POST:
                    summary = importing.import_csv(campaign, source, mapping)
                    stored.unlink(missing_ok=True)
                    counts = ", ".join(
                        f"{summary.counts[o]} {importing.Outcome(o).label.lower()}"
                        for o in importing.Outcome.values
                        if o != "new" and summary.counts[o]
                    )
                    self.message_user(
                        request,
                        f"Imported {summary.created} new lead(s) into {campaign}"
                        + (f"; skipped {counts}." if counts else "."),
                        messages.SUCCESS,
                    )
                    url = reverse("admin:leads_lead_changelist")
                    return redirect(f"{url}?campaign__id__exact={campaign.pk}")
                summary = importing.preview_csv(campaign, source, mapping)
            except importing.LeadImportError as exc:
                form.add_error(None, str(exc))
                summary = None
        context = self._import_context(
            request,
            title=f"Import leads into {campaign}",
            form=form,
            campaign=campaign,
            source=source,
            summary=summary,
            outcomes=[(o, importing.Outcome(o).label, summary.counts.get(o, 0)) for o in importing.Outcome.values]
            if summary
            else [],
        )
        return TemplateResponse(request, "admin/leads/import_map.html", context)
