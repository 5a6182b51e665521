"""Pieces every ModelAdmin of the project uses: intermediate confirmation pages and bulk actions."""

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.template.response import TemplateResponse

from .tenancy import READ, ROLES_FOR, client_ids_for, may_client

REFUSAL_SAMPLE = 5


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


def intermediate_page(modeladmin, request, queryset, *, form_class, title, submit_label, description=""):
    """Shows a form about the selected rows; returns the bound, valid form once it is submitted."""
    if "apply" in request.POST:
        form = form_class(request.POST)
        if form.is_valid():
            return form
    else:
        form = form_class()
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "description": description,
        "form": form,
        "objects": list(queryset[:20]),
        "count": queryset.count(),
        "action": request.POST.get("action", ""),
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "opts": modeladmin.model._meta,
        "submit_label": submit_label,
    }
    return TemplateResponse(request, "admin/outreach/intermediate_action.html", context)


def run_bulk(modeladmin, request, objects, operation, *, done: str, refused_errors: tuple[type[Exception], ...]):
    """Applies operation to each object; reports how many worked and why the others did not."""
    ok, refusals = 0, []
    for obj in objects:
        try:
            operation(obj)
            ok += 1
        except refused_errors as exc:
            refusals.append(str(exc))
    if ok:
        modeladmin.message_user(request, f"{ok} {done}.", messages.SUCCESS)
    if refusals:
        sample = "; ".join(refusals[:REFUSAL_SAMPLE])
        more = f" (and {len(refusals) - REFUSAL_SAMPLE} more)" if len(refusals) > REFUSAL_SAMPLE else ""
        modeladmin.message_user(request, f"{len(refusals)} not changed: {sample}{more}", messages.WARNING)
    if not ok and not refusals:
        modeladmin.message_user(request, "Nothing was selected.", messages.INFO)
    return ok, refusals


def require_client(request, client_id, level: str = READ) -> None:
    """A custom admin view's second lock (the first is its model permission): the user's role in the client.
    Staff superusers pass everywhere; other staff only in the clients they are members of."""
    if client_id is None:
        if not request.user.is_superuser:
            raise PermissionDenied("Only staff superusers act for every client.")
        return
    if not may_client(request.user, client_id, level):
        raise PermissionDenied("You are not a member of this client.")


# Where each client-owned model keeps its client: limits the choices of a foreign key in any admin form.
CHOICE_SCOPE = {
    "outreach.client": "pk",
    "campaigns.campaign": "client",
    "integrations.linkedinaccount": "client",
    "leads.lead": "campaign__client",
    "inbox.conversation": "client",
}


class ClientScopedAdminMixin:
    """Staff who are not superusers see, open and pick only the rows of the clients they are members of,
    as members do in the API: another client's row is not listed, its page answers that it does not exist,
    and a client, campaign, account, lead or conversation of another client is not among a form's choices."""

    client_field = "client"  # the path from the model to its client
    client_level = READ
    show_agency_wide = False  # rows without a client (agency-wide entries) are listed to every staff member

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        mine = client_ids_for(request.user, roles=ROLES_FOR[self.client_level])
        condition = Q(**{"pk__in" if self.client_field == "pk" else f"{self.client_field}__in": mine})
        if self.show_agency_wide:
            condition |= Q(**{f"{self.client_field}__isnull": True})
        return queryset.filter(condition)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        path = CHOICE_SCOPE.get(db_field.related_model._meta.label_lower)
        if path and not request.user.is_superuser:
            mine = client_ids_for(request.user, roles=ROLES_FOR[self.client_level])
            base = kwargs.get("queryset", db_field.related_model._default_manager.all())
            kwargs["queryset"] = base.filter(**{f"{path}__in": mine})
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def truncated(text: str, length: int = 60) -> str:
    return (text[:length] + "…") if len(text) > length else text


class ReadOnlyAdminMixin:
    """Rows the system writes (events, deliveries, the send queue): operators read and act, never edit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
