"""The staff inbox at /inbox/: list, conversation, reply and the actions; a light poll keeps it live.

Live updates are plain polling: the page asks /inbox/poll every few seconds for the counters and
(on the list) the rows, or (on a conversation) the messages after the last one shown. Polling works
through every proxy and load balancer, needs no long-lived connections in the WSGI workers, and each
poll is one or two indexed queries.
"""

import datetime as dt
import secrets
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from campaigns.models import Campaign, OutboundAction
from integrations.models import LinkedInAccount
from leads.models import ACTIVE_STATUSES, Lead
from leads.selectors import leads_of_person
from leads.services import InvalidTransition, LeadActionRefused
from outreach.models import Membership
from outreach.tenancy import WORK, WORK_ROLES, clients_for, may_client

from .classify import CLASSES
from .forms import LinkLeadForm, ReplyForm, SnoozeForm
from .models import Conversation, Label
from .selectors import (
    ASSIGNEE_CHOICES,
    CappedPaginator,
    InboxFilters,
    conversation_messages,
    conversation_thread,
    inbox_counters,
    inbox_facets,
    inbox_list,
)
from .services import (
    NOT_ASSIGNABLE,
    InboxActionRefused,
    conversation_assign,
    conversation_close,
    conversation_link_lead,
    conversation_mark_read,
    conversation_mark_unread,
    conversation_opt_out,
    conversation_reopen,
    conversation_reply,
    conversation_snooze,
    conversation_stop_sequence,
    conversations_label,
    lead_resume_after,
    message_set_class,
    note_add,
    saved_replies_for,
)

PAGE_SIZE = 50
FILTER_KEYS = ("status", "client", "account", "campaign", "assignee", "unread", "q", "label", "class")


def _int(value) -> int | None:
    return int(value) if value and str(value).isdigit() and 0 < int(value) < 2**63 else None


def _filters(request) -> InboxFilters:
    params = request.GET
    status = params.get("status", "open")
    assignee = params.get("assignee", "anyone")
    return InboxFilters(
        status=status if status in (*Conversation.Status.values, "all") else "open",
        client=_int(params.get("client")),
        account=_int(params.get("account")),
        campaign=_int(params.get("campaign")),
        assignee=assignee if assignee in ASSIGNEE_CHOICES or assignee.isdigit() else "anyone",
        unread=params.get("unread") in ("1", "true", "on"),
        q=params.get("q", "")[:200],
        label=_int(params.get("label")),
        reply_class=params.get("class", "") if params.get("class", "") in dict(CLASSES) else "",
    )


def _querystring(request, **changes) -> str:
    params = {k: request.GET[k] for k in FILTER_KEYS if request.GET.get(k)}
    params.update({k: v for k, v in changes.items() if v is not None})
    params = {k: v for k, v in params.items() if v not in ("", None)}
    return urlencode(params)


def _may_work(user, conversation: Conversation) -> bool:
    return may_client(user, conversation.client_id, WORK)


def _conversation(request, pk: int) -> Conversation:
    queryset = inbox_list(request.user, InboxFilters(status="all"))
    conversation = queryset.filter(pk=pk).first()
    if conversation is None:
        raise Http404("No such conversation.")
    return conversation


def _nav_context(request, filters: InboxFilters) -> dict:
    clients = list(clients_for(request.user).order_by("name"))
    client_ids = [c.pk for c in clients]
    accounts = LinkedInAccount.objects.filter(client_id__in=client_ids).order_by("name")
    campaigns = Campaign.objects.filter(client_id__in=client_ids).exclude(status="archived").order_by("name")
    if filters.client:
        accounts = accounts.filter(client_id=filters.client)
        campaigns = campaigns.filter(client_id=filters.client)
    return {
        "filters": filters,
        "clients": clients,
        "accounts": list(accounts.only("id", "name")[:500]),
        "campaigns": list(campaigns.only("id", "name")[:500]),
        "counters": inbox_counters(request.user, client=filters.client),
        "facets": inbox_facets(request.user, client=filters.client),
        "reply_classes": CLASSES,
        "statuses": [("open", "Open"), ("snoozed", "Snoozed"), ("closed", "Closed"), ("all", "All")],
        "qs": _querystring(request),
    }


@login_required
@require_GET
def conversation_list(request):
    filters = _filters(request)
    page = CappedPaginator(
        inbox_list(request.user, filters), PAGE_SIZE, searching=bool(filters.q.strip() or filters.label)
    ).get_page(request.GET.get("page"))
    context = {
        **_nav_context(request, filters),
        "page": page,
        "conversations": page.object_list,
        "page_qs": _querystring(request, page=None),
        "bulk_labels": list(
            Label.objects.filter(client__in=clients_for(request.user, roles=WORK_ROLES)).select_related("client")
        ),
    }
    return render(request, "inbox/list.html", context)


def _neighbours(request, conversation: Conversation) -> tuple[int | None, int | None]:
    """Previous and next conversation in the list the user came from (same filters and order)."""
    ids = list(inbox_list(request.user, _filters(request)).values_list("id", flat=True)[:1000])
    if conversation.pk not in ids:
        return None, (ids[0] if ids else None)
    index = ids.index(conversation.pk)
    return (ids[index - 1] if index > 0 else None), (ids[index + 1] if index + 1 < len(ids) else None)


@login_required
@require_GET
def conversation_detail(request, pk: int):
    conversation = _conversation(request, pk)
    if conversation.unread_count:
        conversation_mark_read(conversation=conversation)
    filters = _filters(request)
    previous_id, next_id = _neighbours(request, conversation)
    # Anyone of the client who may work conversations (agent or admin) can be assigned.
    members = (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__client_id=conversation.client_id,
            memberships__role__in=[Membership.Role.ADMIN, Membership.Role.AGENT],
        )
        .distinct()
        .order_by("username")
    )
    lead = conversation.lead
    other_leads = (
        leads_of_person(
            client_id=conversation.client_id, provider_id=lead.provider_id, public_identifier=lead.public_identifier
        )
        .exclude(pk=lead.pk)
        .select_related("campaign")[:10]
        if lead
        else []
    )
    draft = request.session.pop(f"inbox-draft-{conversation.pk}", "")
    context = {
        **_nav_context(request, filters),
        "conversation": conversation,
        "messages_list": conversation_messages(conversation),
        "thread": conversation_thread(conversation),
        "saved_replies": saved_replies_for(conversation),
        "client_labels": list(Label.objects.filter(client_id=conversation.client_id)),
        "labels_on": list(conversation.labels.all()),
        "reply_form": ReplyForm(initial={"form_token": secrets.token_urlsafe(16), "text": draft}),
        "reply_classes": CLASSES,
        "other_leads": other_leads,
        "snooze_form": SnoozeForm(),
        "link_form": LinkLeadForm(),
        "may_work": _may_work(request.user, conversation),
        "members": members,
        "previous_id": previous_id,
        "next_id": next_id,
        "lead": conversation.lead,
        "lead_running": bool(conversation.lead and conversation.lead.status in ACTIVE_STATUSES),
        "pending_replies": conversation.actions.filter(status__in=OutboundAction.OPEN_STATUSES).count(),
    }
    return render(request, "inbox/conversation.html", context)


def _back(request, conversation: Conversation):
    qs = _querystring(request)
    return redirect(reverse("inbox:conversation", args=[conversation.pk]) + (f"?{qs}" if qs else ""))


@login_required
@require_POST
def reply(request, pk: int):
    conversation = _conversation(request, pk)
    if not _may_work(request.user, conversation):
        messages.error(request, "Your role in this client is read-only: you cannot reply.")
        return _back(request, conversation)
    form = ReplyForm(request.POST)
    draft_key = f"inbox-draft-{conversation.pk}"
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        request.session[draft_key] = request.POST.get("text", "")[:20000]  # the typed text comes back
        return _back(request, conversation)
    try:
        _message, created = conversation_reply(
            conversation=conversation,
            text=form.cleaned_data["text"],
            user=request.user,
            send_now=form.cleaned_data["send_now"],
            form_token=form.cleaned_data["form_token"],
        )
    except InboxActionRefused as exc:
        messages.error(request, str(exc))
        request.session[draft_key] = form.cleaned_data["text"]
        return _back(request, conversation)
    if not created:
        messages.info(request, "That reply was already queued; it was not queued twice.")
    elif form.cleaned_data["send_now"]:
        messages.success(request, f"Reply queued on {conversation.account}; it goes out now (within the caps).")
    else:
        messages.success(request, f"Reply queued on {conversation.account}; it goes out in working hours.")
    return _back(request, conversation)


@login_required
@require_POST
def act(request, pk: int, action: str):
    conversation = _conversation(request, pk)
    if not _may_work(request.user, conversation):
        messages.error(request, "Your role in this client is read-only.")
        return _back(request, conversation)
    try:
        done = _apply(request, conversation, action)
    except (InboxActionRefused, InvalidTransition, LeadActionRefused) as exc:
        messages.error(request, str(exc))
        return _back(request, conversation)
    if done is None:
        return HttpResponseBadRequest("Unknown action.")
    messages.success(request, done)
    if action in ("close", "snooze"):
        # Done with this one: on to the next conversation of the list, like a mail client.
        _previous, next_id = _neighbours(request, conversation)
        if next_id and next_id != conversation.pk:
            qs = _querystring(request)
            return redirect(reverse("inbox:conversation", args=[next_id]) + (f"?{qs}" if qs else ""))
        return redirect(reverse("inbox:list") + (f"?{_querystring(request)}" if request.GET else ""))
    if action == "unread":
        return redirect(reverse("inbox:list") + (f"?{_querystring(request)}" if request.GET else ""))
    return _back(request, conversation)


def _apply(request, conversation: Conversation, action: str) -> str | None:
    if action == "read":
        conversation_mark_read(conversation=conversation)
        return "Marked as read."
    if action == "unread":
        conversation_mark_unread(conversation=conversation)
        return "Marked as unread."
    if action == "close":
        conversation_close(conversation=conversation)
        return f"Conversation with {conversation} closed."
    if action == "reopen":
        conversation_reopen(conversation=conversation)
        return "Conversation reopened."
    if action == "assign":
        value = request.POST.get("assignee", "")
        if value == "me":
            user = request.user
        elif value in ("", "none"):
            user = None
        else:
            user = get_user_model().objects.filter(pk=_int(value)).first()
            if user is None:
                raise InboxActionRefused(NOT_ASSIGNABLE)
        conversation_assign(conversation=conversation, user=user)
        return f"Assigned to {user}." if user else "Unassigned."
    if action == "snooze":
        form = SnoozeForm(request.POST)
        if not form.is_valid():
            raise InboxActionRefused(" ".join(e for errors in form.errors.values() for e in errors))
        until = form.cleaned_data["until_resolved"]
        conversation_snooze(conversation=conversation, until=until)
        return f"Snoozed until {until:%a %d %b %H:%M}."
    if action == "link":
        form = LinkLeadForm(request.POST)
        if not form.is_valid():
            raise InboxActionRefused("Give the id of a lead.")
        lead = Lead.objects.filter(pk=form.cleaned_data["lead"], campaign__client_id=conversation.client_id).first()
        if lead is None:
            raise InboxActionRefused(f"No lead {form.cleaned_data['lead']} in {conversation.client}.")
        conversation_link_lead(conversation=conversation, lead=lead)
        return f"Linked to lead {lead} ({lead.campaign})."
    if action == "stop":
        lead = conversation_stop_sequence(conversation=conversation, user=request.user)
        return f"The sequence of {lead} is stopped (paused)."
    if action == "note":
        note_add(conversation=conversation, user=request.user, text=request.POST.get("note", ""))
        return "Note added (only your team sees it)."
    if action in ("label", "unlabel"):
        label = Label.objects.filter(pk=_int(request.POST.get("label")), client_id=conversation.client_id).first()
        if label is None:
            raise InboxActionRefused("Pick one of the labels of this client.")
        conversations_label(conversations=[conversation], label=label, add=action == "label")
        return f"Label {label} {'added' if action == 'label' else 'removed'}."
    if action == "classify":
        message = conversation.messages.filter(pk=_int(request.POST.get("message"))).first()
        if message is None:
            raise InboxActionRefused("That message is not in this conversation.")
        message = message_set_class(message=message, kind=request.POST.get("kind", ""), user=request.user)
        return f"Class set to {message.get_reply_class_display().lower()}."
    if action == "opt-out":
        stopped = conversation_opt_out(conversation=conversation, user=request.user)
        return (
            f"{conversation} is on {conversation.client}'s do-not-contact list: no campaign of the client writes to "
            f"them again ({stopped} lead(s) stopped)."
        )
    if action == "resume-after":
        if conversation.lead is None:
            raise InboxActionRefused("The conversation is not linked to a lead.")
        try:
            day = dt.date.fromisoformat(request.POST.get("day", ""))
        except ValueError:
            raise InboxActionRefused("Pick the day to resume on.") from None
        zone = ZoneInfo(str(conversation.lead.campaign.timezone))
        when = dt.datetime.combine(day, conversation.lead.campaign.work_start, tzinfo=zone)
        lead = lead_resume_after(lead=conversation.lead, when=when, user=request.user)
        return f"{lead}'s sequence resumes on {day:%a %d %b %Y}."
    return None


@login_required
@require_POST
def bulk_label(request):
    """The list's checked conversations get a label (or lose it); only where the user may work."""
    ids = [pk for pk in (_int(v) for v in request.POST.getlist("ids")) if pk]
    back = redirect(reverse("inbox:list") + (f"?{_querystring(request)}" if request.GET else ""))
    if not ids:
        messages.error(request, "Tick the conversations to label first.")
        return back
    conversations = list(inbox_list(request.user, InboxFilters(status="all")).filter(pk__in=ids))
    label = Label.objects.filter(pk=_int(request.POST.get("label"))).first()
    if label is None or not may_client(request.user, label.client_id, WORK):
        messages.error(request, "Pick a label of a client you work for.")
        return back
    mine = [c for c in conversations if c.client_id == label.client_id and _may_work(request.user, c)]
    skipped = len(ids) - len(mine)
    add = request.POST.get("op", "add") != "remove"
    conversations_label(conversations=mine, label=label, add=add)
    done = f"Label {label} {'added to' if add else 'removed from'} {len(mine)} conversation(s)."
    if skipped:
        done += f" {skipped} skipped (another client's, or read-only for you)."
    messages.success(request, done)
    return back


@login_required
@require_GET
def poll(request):
    """Counters, plus the list's rows or a conversation's new messages, for the page's live refresh."""
    filters = _filters(request)
    body = {"counters": inbox_counters(request.user, client=filters.client)}
    conversation_id = _int(request.GET.get("conversation"))
    if conversation_id:
        conversation = _conversation(request, conversation_id)
        after = _int(request.GET.get("after")) or 0
        new = list(conversation_messages(conversation).filter(id__gt=after))
        body["last_id"] = new[-1].pk if new else after
        body["messages_html"] = render_to_string("inbox/_messages.html", {"messages_list": new}, request=request)
        if new and conversation.unread_count:
            conversation_mark_read(conversation=conversation)
        # Delivery states of our recent replies change while the page is open.
        body["pending"] = {
            str(m.pk): m.delivery[0]
            for m in conversation_messages(conversation).filter(action__isnull=False).order_by("-id")[:20]
        }
    else:
        page = CappedPaginator(
            inbox_list(request.user, filters), PAGE_SIZE, searching=bool(filters.q.strip() or filters.label)
        ).get_page(request.GET.get("page"))
        body["rows_html"] = render_to_string(
            "inbox/_rows.html",
            {"conversations": page.object_list, "qs": _querystring(request), "filters": filters},
            request=request,
        )
    return JsonResponse(body)
