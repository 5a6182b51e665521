from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from leads.models import ACTIVE_STATUSES, Lead, LeadStatus
from outreach.admin_utils import ClientScopedAdminMixin, ReadOnlyAdminMixin, require_client, run_bulk, truncated
from outreach.tenancy import READ, WORK

from . import lead_admin, source_admin  # noqa: F401  registers the lead and lead-source pages
from .models import Campaign, OutboundAction, Step
from .personalization import INVITE_NOTE_LIMIT
from .sequence import (
    NODE_FIELDS,
    SHAPES,
    NodeSpec,
    SequenceInvalid,
    sequence_apply_shape,
    sequence_node_add,
    sequence_node_move_up,
    sequence_node_remove,
    sequence_problems,
    sequence_replace,
    sequence_tree,
    steps_with_history,
)
from .services import (
    CampaignActionRefused,
    OutboundActionRefused,
    campaign_activate,
    campaign_archive,
    campaign_duplicate,
    campaign_pause,
    campaign_preview,
    campaign_resume,
    campaign_template_warnings,
    outbound_action_cancel,
    outbound_action_retry,
)

PREVIEW_SAMPLE = 10


VARIABLES_HELP = (
    "Variables: {first_name}, {last_name}, {full_name}, {company}, {title}, any custom field such as {role}; "
    "a fallback after a bar: {first_name|there}. Invitation notes: 300 characters at most."
)


class StepForm(forms.ModelForm):
    after = forms.IntegerField(
        required=False,
        min_value=1,
        label="after step",
        help_text="The number of the step this one follows; empty: the step numbered just before it.",
    )

    class Meta:
        model = Step
        fields = [
            "position",
            "label",
            "action",
            "branch",
            "condition",
            "within_days",
            "delay_days",
            "delay_hours",
            "withdraw_after_days",
            "template",
            "template_b",
        ]
        labels = {"position": "No.", "branch": "path"}
        widgets = {
            # step_counter.js shows "n / 300" under an invitation note while it is typed.
            "template": forms.Textarea(attrs={"rows": 4, "cols": 80, "data-note-limit": INVITE_NOTE_LIMIT}),
            "template_b": forms.Textarea(attrs={"rows": 4, "cols": 80, "data-note-limit": INVITE_NOTE_LIMIT}),
        }
        help_texts = {
            "template": VARIABLES_HELP,
            "branch": "After a condition: its yes or its no path. After anything else: next.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.parent_id:
            self.fields["after"].initial = self.instance.parent.position
        self.fields["branch"].required = False


class SequenceFormSet(forms.BaseInlineFormSet):
    """The inline's rows are one sequence: checked whole, by the same rules as the API's sequence document."""

    def rows(self):
        return [
            f
            for f in self.forms
            if getattr(f, "cleaned_data", None)
            and not f.cleaned_data.get("DELETE")
            and (f.instance.pk or f.has_changed())
        ]

    def specs(self):
        rows = sorted(self.rows(), key=lambda f: f.cleaned_data.get("position") or 0)
        specs, previous = [], None
        for form in rows:
            data = form.cleaned_data
            key = str(data["position"])
            after = data.get("after")
            parent = str(after) if after else previous
            branch = data.get("branch") or Step.Branch.NEXT
            specs.append(
                NodeSpec(
                    key=key,
                    id=form.instance.pk,
                    position=data["position"],
                    parent=parent,
                    branch=branch,
                    fields={name: data.get(name) for name in NODE_FIELDS if name in data},
                )
            )
            previous = key
        return specs

    def clean(self):
        super().clean()
        if any(form.errors for form in self.forms):
            return
        rows = self.rows()
        positions = [f.cleaned_data["position"] for f in rows]
        if len(set(positions)) != len(positions):
            raise forms.ValidationError("Each step needs its own number.")
        by_key = {str(f.cleaned_data["position"]): f for f in rows}
        problems = sequence_problems(self.instance.kind, self.specs()) if rows else {}
        for key, fields in problems.items():
            form = by_key.get(key)
            for name, messages_ in fields.items():
                for message in messages_:
                    if form is None:
                        self._refuse(message)
                    else:
                        target = {"yes": None, "no": None, "non_field_errors": None}.get(name, name)
                        form.add_error(target if target in form.fields else None, message)
        kept = {f.instance.pk for f in rows if f.instance.pk}
        removed = [f.instance for f in self.forms if f.instance.pk and f.instance.pk not in kept]
        for pk, why in steps_with_history(removed).items():
            step = next(s for s in removed if s.pk == pk)
            self._refuse(f"Step {step.position} cannot be removed: {why}.")  # a deleted row's own errors go unread

    def _refuse(self, message: str) -> None:
        errors = self._non_form_errors or self.error_class(error_class="nonform", renderer=self.renderer)
        errors.append(message)
        self._non_form_errors = errors


class StepInline(admin.StackedInline):
    model = Step
    form = StepForm
    formset = SequenceFormSet
    fk_name = "campaign"
    extra = 0
    ordering = ["position"]
    fields = [
        ("position", "label", "action"),
        ("after", "branch"),
        ("condition", "within_days"),
        ("delay_days", "delay_hours", "withdraw_after_days"),
        "template",
        "template_b",
    ]

    class Media:
        js = ["campaigns/step_counter.js"]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.hand_clean_DELETE = lambda form: None  # the history rule above says it, with the reason
        return formset


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = [
            "client",
            "name",
            "kind",
            "senders",
            "dry_run",
            "one_conversation_per_person",
            "timezone",
            "work_start",
            "work_end",
            "working_days",
            "holiday_country",
            "holiday_subdivision",
        ]

    working_days = forms.TypedMultipleChoiceField(
        choices=[
            (i, name)
            for i, name in enumerate(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"])
        ],
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        initial=[0, 1, 2, 3, 4],
    )

    def clean(self):
        data = super().clean()
        client, senders = data.get("client"), data.get("senders")
        if client and senders:
            foreign = [s.name for s in senders if s.client_id != client.pk]
            if foreign:
                self.add_error("senders", f"These accounts belong to another client: {', '.join(foreign)}.")
        return data


def _lead_count(status_set):
    return Count("leads", filter=Q(leads__status__in=status_set))


@admin.register(Campaign)
class CampaignAdmin(ClientScopedAdminMixin, admin.ModelAdmin):
    form = CampaignForm
    list_display = [
        "name",
        "client",
        "kind",
        "status",
        "total_leads",
        "pending_leads",
        "in_progress_leads",
        "replied_leads",
        "error_leads",
        "preview_link",
    ]
    list_filter = ["status", "kind", "client"]
    search_fields = ["name", "client__name"]
    list_select_related = ["client"]
    autocomplete_fields = ["client"]
    filter_horizontal = ["senders"]
    # Status changes go through the actions, which check the campaign first; a new campaign is a draft.
    readonly_fields = ["status", "created_at", "activated_at"]
    date_hierarchy = "created_at"
    inlines = [StepInline]
    actions = ["activate", "pause", "resume", "duplicate", "archive"]
    fieldsets = [
        (None, {"fields": ["client", "name", "kind", "status", "senders", "dry_run", "one_conversation_per_person"]}),
        (
            "Working time",
            {
                "fields": [
                    "timezone",
                    ("work_start", "work_end"),
                    "working_days",
                    ("holiday_country", "holiday_subdivision"),
                ]
            },
        ),
        ("History", {"fields": ["created_at", "activated_at"]}),
    ]

    def save_formset(self, request, form, formset, change):
        if formset.model is not Step:
            return super().save_formset(request, form, formset, change)
        # One call for the whole sequence: adds, moves, changes and deletions, checked whole, with the history rule.
        sequence_replace(campaign=form.instance, specs=formset.specs())
        for warning in campaign_template_warnings(form.instance):
            self.message_user(request, warning, messages.WARNING)
        # What the admin's change message and history read from a saved formset.
        formset.new_objects = [f.instance for f in formset.extra_forms if f.has_changed()]
        formset.changed_objects = [
            (f.instance, f.changed_data)
            for f in formset.initial_forms
            if f.has_changed() and f not in formset.deleted_forms
        ]
        formset.deleted_objects = [f.instance for f in formset.deleted_forms]
        return None

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        match = request.resolver_match
        if not match or match.url_name != "campaigns_campaign_changelist":
            return queryset  # autocomplete and change pages need no counts
        # One GROUP BY query for the page's counts, not a count per row.
        return queryset.annotate(
            n_total=Count("leads"),
            n_pending=_lead_count([LeadStatus.PENDING]),
            n_in_progress=_lead_count(ACTIVE_STATUSES - {LeadStatus.PENDING}),
            n_replied=_lead_count([LeadStatus.REPLIED]),
            n_error=_lead_count([LeadStatus.ERROR]),
        )

    def _leads_link(self, obj, count, status=None):
        url = reverse("admin:leads_lead_changelist") + f"?campaign__id__exact={obj.pk}"
        if status:
            url += f"&status__exact={status}"
        return format_html('<a href="{}">{}</a>', url, count)

    @admin.display(description="leads", ordering="n_total")
    def total_leads(self, obj):
        return self._leads_link(obj, obj.n_total)

    @admin.display(description="pending", ordering="n_pending")
    def pending_leads(self, obj):
        return self._leads_link(obj, obj.n_pending, LeadStatus.PENDING)

    @admin.display(description="in progress", ordering="n_in_progress")
    def in_progress_leads(self, obj):
        return obj.n_in_progress

    @admin.display(description="replied", ordering="n_replied")
    def replied_leads(self, obj):
        return self._leads_link(obj, obj.n_replied, LeadStatus.REPLIED)

    @admin.display(description="errors", ordering="n_error")
    def error_leads(self, obj):
        return self._leads_link(obj, obj.n_error, LeadStatus.ERROR)

    @admin.display(description="")
    def preview_link(self, obj):
        return format_html(
            '<a href="{}">Preview messages</a>', reverse("admin:campaigns_campaign_preview", args=[obj.pk])
        )

    # --- actions ---

    def _start(self, request, queryset, service, done: str):
        """Activation and resume check the campaign first: each refusal lists its problems."""
        for campaign in queryset:
            try:
                service(campaign=campaign)
            except CampaignActionRefused as exc:
                problems = format_html_join("", "<li>{}</li>", ((str(p),) for p in exc.problems))
                self.message_user(request, format_html("{}<ul>{}</ul>", str(exc), problems), messages.ERROR)
            else:
                self.message_user(request, f"{campaign} {done}.", messages.SUCCESS)

    @admin.action(description="Activate selected campaigns")
    def activate(self, request, queryset):
        self._start(request, queryset, campaign_activate, "is active")

    @admin.action(description="Pause selected campaigns")
    def pause(self, request, queryset):
        run_bulk(
            self,
            request,
            queryset,
            lambda c: campaign_pause(campaign=c),
            done="campaign(s) paused",
            refused_errors=(CampaignActionRefused,),
        )

    @admin.action(description="Resume selected campaigns")
    def resume(self, request, queryset):
        self._start(request, queryset, campaign_resume, "resumed")

    @admin.action(description="Duplicate selected campaigns (steps and senders, no leads)")
    def duplicate(self, request, queryset):
        run_bulk(
            self,
            request,
            queryset,
            lambda c: campaign_duplicate(campaign=c),
            done="campaign(s) duplicated as drafts",
            refused_errors=(CampaignActionRefused,),
        )

    @admin.action(description="Archive selected campaigns (cancels what is queued)")
    def archive(self, request, queryset):
        run_bulk(
            self,
            request,
            queryset,
            lambda c: campaign_archive(campaign=c),
            done="campaign(s) archived",
            refused_errors=(CampaignActionRefused,),
        )

    # --- the campaign page: the sequence tree, its buttons and node edits ---

    def change_view(self, request, object_id, form_url="", extra_context=None):
        campaign = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if campaign is not None:
            extra.update(
                tree=sequence_tree(campaign),
                shapes=[(name, text) for name, (text, _) in SHAPES.items()],
                node_kinds=[(a.value, a.label) for a in Step.Action],
                can_change=self.has_change_permission(request, campaign),
                lead_counts=dict(
                    campaign.leads.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
                ),
            )
        return super().change_view(request, object_id, form_url, extra)

    OPERATIONS = {
        "activate": (lambda c, d: campaign_activate(campaign=c), "{c} is active."),
        "pause": (lambda c, d: campaign_pause(campaign=c), "{c} is paused."),
        "resume": (lambda c, d: campaign_resume(campaign=c), "{c} resumed."),
        "duplicate": (lambda c, d: campaign_duplicate(campaign=c), "{c} duplicated as a draft: {r}."),
        "shape": (lambda c, d: sequence_apply_shape(campaign=c, shape=d["shape"]), "The sequence was replaced."),
        "add": (
            lambda c, d: sequence_node_add(
                campaign=c,
                after=c.steps.filter(pk=d.get("step") or None).first(),
                branch=d.get("branch") or "next",
                action=d["kind"],
            ),
            "Step added: give it its text and delays in the steps below.",
        ),
        "remove": (lambda c, d: sequence_node_remove(campaign=c, step=c.steps.get(pk=d["step"])), "Step removed."),
        "up": (lambda c, d: sequence_node_move_up(campaign=c, step=c.steps.get(pk=d["step"])), "Step moved up."),
    }

    def operate_view(self, request, pk):
        campaign = get_object_or_404(Campaign.objects.select_related("client"), pk=pk)
        if request.method != "POST" or not self.has_change_permission(request, campaign):
            raise PermissionDenied
        require_client(request, campaign.client_id, WORK)
        back = reverse("admin:campaigns_campaign_change", args=[campaign.pk])
        op = request.POST.get("op", "")
        if op not in self.OPERATIONS:
            self.message_user(request, f"Unknown operation {op!r}.", messages.ERROR)
            return HttpResponseRedirect(back)
        service, done = self.OPERATIONS[op]
        try:
            result = service(campaign, request.POST)
        except CampaignActionRefused as exc:
            problems = format_html_join("", "<li>{}</li>", ((str(p),) for p in exc.problems))
            self.message_user(request, format_html("{}<ul>{}</ul>", str(exc), problems), messages.ERROR)
        except SequenceInvalid as exc:
            listed = format_html_join("", "<li>{}</li>", ((m,) for m in exc.messages()))
            self.message_user(request, format_html("Not changed: <ul>{}</ul>", listed), messages.ERROR)
        except (Step.DoesNotExist, KeyError, ValueError):
            self.message_user(request, "That step or choice does not exist (any more).", messages.ERROR)
        else:
            self.message_user(request, done.format(c=campaign, r=result), messages.SUCCESS)
            if op == "duplicate":
                return HttpResponseRedirect(reverse("admin:campaigns_campaign_change", args=[result.pk]))
        return HttpResponseRedirect(back)

    # --- preview ---

    def get_urls(self):
        return [
            path("<int:pk>/preview/", self.admin_site.admin_view(self.preview_view), name="campaigns_campaign_preview"),
            path("<int:pk>/operate/", self.admin_site.admin_view(self.operate_view), name="campaigns_campaign_operate"),
            *super().get_urls(),
        ]

    def preview_view(self, request, pk):
        campaign = get_object_or_404(Campaign.objects.select_related("client"), pk=pk)
        if not self.has_view_permission(request, campaign):
            raise PermissionDenied
        require_client(request, campaign.client_id, READ)
        lead_ids = [int(x) for x in request.GET.get("leads", "").split(",") if x.strip().isdigit()]
        leads = Lead.objects.filter(campaign=campaign, pk__in=lead_ids) if lead_ids else None
        q = request.GET.get("q", "").strip()[:100]
        if q:  # leads picked by name: every word must match the first or the last name
            named = Lead.objects.filter(campaign=campaign)
            for word in q.split()[:4]:
                named = named.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word))
            leads = named.order_by("first_name", "last_name", "id")[:PREVIEW_SAMPLE]
        rows = campaign_preview(campaign=campaign, leads=leads, sample=PREVIEW_SAMPLE)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": campaign,
            "title": f"Message preview: {campaign}",
            "campaign": campaign,
            "steps": list(campaign.steps.order_by("position")),
            "rows": rows,
            "q": q,
            "problem_count": sum(1 for row in rows for cell in row.cells if cell.rendered and not cell.rendered.ok),
        }
        return TemplateResponse(request, "admin/campaigns/preview.html", context)


@admin.register(OutboundAction)
class OutboundActionAdmin(ClientScopedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    client_field = "account__client"

    list_display = ["id", "action", "status", "lead", "account", "scheduled_for", "attempts", "sent_at", "short_error"]
    list_filter = ["status", "action", "account__client"]
    search_fields = ["invitation_id", "chat_id", "message_id"]
    raw_id_fields = ["lead", "step", "account"]
    list_select_related = ["lead", "account"]
    date_hierarchy = "scheduled_for"
    show_full_result_count = False
    actions = ["retry_dead", "cancel"]
    readonly_fields = [
        "lead",
        "step",
        "account",
        "action",
        "text",
        "variant",
        "status",
        "scheduled_for",
        "claimed_at",
        "sent_at",
        "attempts",
        "last_error",
        "invitation_id",
        "chat_id",
        "message_id",
        "created_at",
    ]

    @admin.display(description="error")
    def short_error(self, obj):
        return truncated(obj.last_error)

    @admin.action(description="Retry selected dead actions")
    def retry_dead(self, request, queryset):
        run_bulk(
            self,
            request,
            queryset,
            lambda a: outbound_action_retry(action=a),
            done="action(s) queued again",
            refused_errors=(OutboundActionRefused,),
        )

    @admin.action(description="Cancel selected actions")
    def cancel(self, request, queryset):
        run_bulk(
            self,
            request,
            queryset,
            lambda a: outbound_action_cancel(action=a),
            done="action(s) cancelled",
            refused_errors=(OutboundActionRefused,),
        )
