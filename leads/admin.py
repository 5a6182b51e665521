from django import forms
from django.contrib import admin, messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html

from outreach.admin_utils import ClientScopedAdminMixin, ReadOnlyAdminMixin, require_client
from outreach.models import Client
from outreach.tenancy import WORK

from .dnc import InvalidDncValue, dnc_parse
from .models import DoNotContact, Event
from .services import (
    dnc_bulk_add,
    dnc_create,
)


@admin.register(Event)
class EventAdmin(ClientScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    client_field = "lead__campaign__client"

    list_display = ["occurred_at", "type", "lead", "account", "external_id", "short_data"]
    list_filter = ["type"]
    search_fields = ["external_id"]
    raw_id_fields = ["lead", "account"]
    list_select_related = ["lead", "account"]
    date_hierarchy = "occurred_at"
    show_full_result_count = False
    readonly_fields = ["lead", "account", "type", "occurred_at", "data", "external_id"]

    @admin.display(description="data")
    def short_data(self, obj):
        text = ", ".join(f"{k}: {v}" for k, v in (obj.data or {}).items() if v not in ("", None))
        return text[:100]


class DncBulkAddForm(forms.Form):
    client = forms.ModelChoiceField(
        queryset=Client.objects.all(),
        required=False,
        empty_label="Every client (global)",
    )
    entries = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12, "cols": 80}),
        help_text="One per line: LinkedIn profile URLs, public identifiers, member ids (ACo…), email addresses "
        "or @domain.com for a whole email domain.",
    )
    reason = forms.CharField(max_length=300, required=False)

    def clean_entries(self):
        parsed, errors = [], []
        for number, line in enumerate(self.cleaned_data["entries"].splitlines(), start=1):
            if not line.strip():
                continue
            try:
                parsed.append(dnc_parse(line))
            except InvalidDncValue as exc:
                errors.append(f"Line {number}: {exc}")
        if errors:
            raise forms.ValidationError(errors[:20] + ([f"… and {len(errors) - 20} more."] if len(errors) > 20 else []))
        if not parsed:
            raise forms.ValidationError("Paste at least one entry.")
        return parsed


class DncAddForm(forms.ModelForm):
    """One entry through the same parser as the API and the bulk form: stored normalized, never as typed."""

    kind = forms.ChoiceField(
        choices=[("", "Detect from the value"), *DoNotContact.Kind.choices],
        required=False,
        help_text="Left empty, an email, @domain, profile URL, slug or member id is recognized by its shape.",
    )

    class Meta:
        model = DoNotContact
        fields = ["client", "kind", "value", "reason"]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            entry = dnc_parse(cleaned.get("value", ""), cleaned.get("kind", ""))
        except InvalidDncValue as exc:
            self.add_error("value", str(exc))
            return cleaned
        if DoNotContact.objects.filter(client=cleaned.get("client"), kind=entry.kind, value=entry.value).exists():
            self.add_error("value", f"{entry.value} is already on the list.")
        return cleaned

    def validate_unique(self):
        """Uniqueness is checked on the normalized value in clean()."""


@admin.register(DoNotContact)
class DoNotContactAdmin(ClientScopedAdminMixin, admin.ModelAdmin):
    show_agency_wide = True  # the agency-wide list is the staff's own

    list_display = ["value", "kind", "scope", "reason", "created_by", "created_at"]
    list_filter = ["kind", "client"]
    search_fields = ["value", "reason"]
    list_select_related = ["client", "created_by"]
    autocomplete_fields = ["client"]
    readonly_fields = ["created_by", "created_at"]

    @admin.display(description="applies to", ordering="client__name")
    def scope(self, obj):
        return obj.client or format_html("<strong>{}</strong>", "every client")

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = DncAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        # An entry's value is what stopped leads; changing it would leave them stopped for another value.
        return [*self.readonly_fields, "client", "kind", "value"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["reason"])  # the one field left editable; it carries no rule
            return
        entry, stopped = dnc_create(
            client=form.cleaned_data.get("client"),
            value=form.cleaned_data["value"],
            kind=form.cleaned_data.get("kind", ""),
            reason=form.cleaned_data.get("reason", ""),
            user=request.user,
        )
        for name in ("id", "kind", "value", "reason", "created_by_id", "created_at"):
            setattr(obj, name, getattr(entry, name))  # the admin logs and links the stored, normalized row
        obj._state.adding, obj._state.db = False, entry._state.db
        request.dnc_leads_stopped = stopped

    def response_add(self, request, obj, post_url_continue=None):
        stopped = getattr(request, "dnc_leads_stopped", 0)
        self.message_user(request, f"{stopped} lead(s) stopped by this entry.", messages.SUCCESS)
        return super().response_add(request, obj, post_url_continue)

    def get_urls(self):
        return [
            path("bulk-add/", self.admin_site.admin_view(self.bulk_add_view), name="leads_donotcontact_bulk_add"),
            *super().get_urls(),
        ]

    def bulk_add_view(self, request):
        if not self.has_add_permission(request):
            raise Http404
        form = DncBulkAddForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            client, entries, reason = (form.cleaned_data[k] for k in ("client", "entries", "reason"))
            require_client(request, client.pk if client else None, WORK)
            added, stopped = dnc_bulk_add(client=client, entries=entries, reason=reason, user=request.user)
            self.message_user(
                request,
                f"{added} entr{'y' if added == 1 else 'ies'} added ({len(entries) - added} already listed); "
                f"{stopped} lead(s) stopped.",
                messages.SUCCESS,
            )
            return redirect("admin:leads_donotcontact_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Add to the do-not-contact list",
            "form": form,
        }
        return TemplateResponse(request, "admin/leads/dnc_bulk_add.html", context)
