"""The sandbox's HTTP API: same paths, request formats, answers and error bodies as Unipile v1 (shared/UNIPILE.md)."""

import base64
import datetime as dt
import functools
import hmac
import json
import time

import requests
from django.conf import settings
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from integrations.unipile import parse_timestamp, sandbox_api_key

from . import engine
from .engine import ProviderError
from .models import (
    SandboxAccount,
    SandboxChat,
    SandboxHostedLink,
    SandboxInvitation,
    SandboxMessage,
    SandboxRelation,
    SandboxSettings,
    SandboxWebhook,
)

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


def error_response(status: int, type: str, detail: str = "") -> JsonResponse:
    return JsonResponse(
        {
            "status": status,
            "type": f"errors/{type}",
            "title": TITLES.get(status, "Error"),
            "detail": detail,
            "instance": "",
        },
        status=status,
    )


def sandbox_api(methods: tuple[str, ...]):
    """Refuses unless the sandbox is on; checks the API key in constant time; turns ProviderError into Unipile's body."""

    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if not settings.UNIPILE_SANDBOX:
                return error_response(404, "resource_not_found", "The sandbox provider is off.")
            if not hmac.compare_digest(request.headers.get("X-API-KEY", ""), sandbox_api_key()):
                return error_response(401, "missing_credentials", "Wrong or missing X-API-KEY.")
            if request.method not in methods:
                return error_response(405, "invalid_parameters", f"{request.method} is not allowed here.")
            try:
                return view(request, *args, **kwargs)
            except ProviderError as exc:
                return error_response(exc.status, exc.type, exc.detail)
            except engine.LateAnswer:
                time.sleep(SandboxSettings.load().timeout_seconds)
                return error_response(504, "unexpected_error", "The answer came too late.")

        return wrapper

    return decorate


def _limit(request, maximum: int, default: int = 100) -> int:
    raw = request.GET.get("limit", str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ProviderError(400, "invalid_parameters", f"limit must be a number, not {raw!r}.") from None
    if value < 1:
        raise ProviderError(400, "invalid_parameters", "limit must be at least 1.")
    if value > maximum:
        raise ProviderError(400, "limit_too_high", f"limit is at most {maximum}.")
    return value


def _offset(request) -> int:
    """Where a list resumes: the cursor is the offset, base64-encoded (opaque to clients, as Unipile's)."""
    cursor = request.GET.get("cursor")
    if not cursor:
        return 0
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, UnicodeDecodeError):
        raise ProviderError(400, "invalid_parameters", "Invalid cursor.") from None


def _page(request, queryset, serialize, *, object_name: str, maximum: int) -> JsonResponse:
    limit = _limit(request, maximum)
    offset = _offset(request)
    rows = list(queryset[offset : offset + limit + 1])
    more = len(rows) > limit
    next_cursor = base64.urlsafe_b64encode(str(offset + limit).encode()).decode() if more else None
    return JsonResponse({"object": object_name, "items": [serialize(r) for r in rows[:limit]], "cursor": next_cursor})


def _time_filters(request, queryset, field: str):
    for name, lookup in (("after", "gt"), ("before", "lt")):
        if value := request.GET.get(name):
            moment = parse_timestamp(value)
            if moment is None:
                raise ProviderError(400, "invalid_parameters", f"{name} must be an ISO 8601 time.")
            queryset = queryset.filter(**{f"{field}__{lookup}": moment})
    return queryset


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _json_body(request) -> dict:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise ProviderError(400, "invalid_parameters", "The body is not JSON.") from None
    if not isinstance(body, dict):
        raise ProviderError(400, "invalid_parameters", "The body must be a JSON object.")
    return body


# --- users ---


@sandbox_api(("GET",))
def user_profile(request, identifier):
    config = SandboxSettings.load()
    account = engine.account_by_id(request.GET.get("account_id", ""))
    member = engine.member_by_identifier(identifier, config)
    connected = engine.is_connected(account, member)
    invitation = SandboxInvitation.objects.filter(account=account, member=member).order_by("-created_at").first()
    body = {
        "object": "UserProfile",
        "provider": "LINKEDIN",
        "provider_id": member.provider_id,
        "public_identifier": member.public_identifier,
        "first_name": member.first_name,
        "last_name": member.last_name,
        "headline": member.headline,
        "location": member.location,
        "network_distance": "FIRST_DEGREE" if connected else "SECOND_DEGREE",
        "is_relationship": connected,
        "can_send_inmail": member.can_send_inmail,
    }
    if invitation and invitation.status in ("PENDING", "WITHDRAWN"):
        body["invitation"] = {"type": "SENT", "status": invitation.status}
    if "skills" in request.GET.get("linkedin_sections", "").split(","):
        body["skills"] = engine.skills_of(account, member)
    return JsonResponse(body)


@sandbox_api(("GET",))
def user_posts(request, identifier):
    config = SandboxSettings.load()
    engine.account_by_id(request.GET.get("account_id", ""))
    member = engine.member_by_identifier(identifier, config)
    items = [
        {"object": "Post", "id": post_id, "social_id": post_id, "author": {"provider_id": member.provider_id}}
        for post_id in engine.posts_of(member)[: _limit(request, 100, default=10)]
    ]
    return JsonResponse({"object": "PostList", "items": items, "cursor": None})


@sandbox_api(("POST",))
def post_reaction(request):
    body = _json_body(request)
    post_id = str(body.get("post_id") or "")
    if body.get("reaction_type", "like") not in ("like", "celebrate", "support", "love", "insightful", "funny"):
        raise ProviderError(400, "invalid_parameters", "reaction_type is not a reaction.")
    author = (
        post_id.removeprefix("urn:li:activity:").rsplit("-", 1)[0] if post_id.startswith("urn:li:activity:") else ""
    )
    if not author:
        raise ProviderError(404, "resource_not_found", f"No post {post_id!r}.")
    outcome = engine.engage(
        account_id=str(body.get("account_id") or ""), identifier=author, kind="like", target=post_id
    )
    engine.after_effect(outcome)
    return JsonResponse({"object": "ReactionAdded"})


@sandbox_api(("POST",))
def endorse(request):
    body = _json_body(request)
    endorsement_id = str(body.get("endorsement_id") or "")
    if not endorsement_id:
        raise ProviderError(400, "invalid_parameters", "endorsement_id is required.")
    outcome = engine.engage(
        account_id=str(body.get("account_id") or ""),
        identifier=str(body.get("user_id") or ""),
        kind="endorse",
        target=endorsement_id,
    )
    engine.after_effect(outcome)
    return JsonResponse({"object": "EndorsementAdded"})


@sandbox_api(("POST",))
def follow(request, account_id, user_id):
    outcome = engine.engage(account_id=account_id, identifier=user_id, kind="follow")
    engine.after_effect(outcome)
    return JsonResponse({"object": "UserFollowed"})


@sandbox_api(("POST",))
def user_invite(request):
    body = _json_body(request)
    invitation, outcome = engine.invite(
        account_id=str(body.get("account_id") or ""),
        provider_id=str(body.get("provider_id") or ""),
        message=str(body.get("message") or ""),
    )
    engine.after_effect(outcome)
    return JsonResponse({"object": "UserInvitationSent", "invitation_id": invitation.id})


@sandbox_api(("GET",))
def sent_invitations(request):
    account = engine.account_by_id(request.GET.get("account_id", ""))
    queryset = (
        SandboxInvitation.objects.filter(account=account, status="PENDING")
        .select_related("member")
        .order_by("-created_at", "id")
    )

    def serialize(inv):
        return {
            "object": "UserInvitation",
            "id": inv.id,
            "invited_user_id": inv.member.provider_id,
            "invited_user_public_id": inv.member.public_identifier,
            "parsed_datetime": _iso(inv.created_at),
            "invitation_text": inv.message,
        }

    return _page(request, queryset, serialize, object_name="UserInvitationList", maximum=250)


@sandbox_api(("DELETE",))
def withdraw_invitation(request, invitation_id):
    engine.withdraw(account_id=request.GET.get("account_id", ""), invitation_id=invitation_id)
    return JsonResponse({"object": "InvitationCanceled"})


@sandbox_api(("GET",))
def relations(request):
    account = engine.account_by_id(request.GET.get("account_id", ""))
    queryset = SandboxRelation.objects.filter(account=account).select_related("member").order_by("-created_at", "-id")

    def serialize(rel):
        m = rel.member
        return {
            "object": "UserRelation",
            "member_id": m.provider_id,
            "public_identifier": m.public_identifier,
            "first_name": m.first_name,
            "last_name": m.last_name,
            "headline": m.headline,
            "created_at": int(rel.created_at.timestamp() * 1000),
            "member_urn": f"urn:li:fsd_profile:{m.provider_id}",
        }

    return _page(request, queryset, serialize, object_name="UserRelationsList", maximum=1000)


# --- messaging ---


def _message(message: SandboxMessage) -> dict:
    chat = message.chat
    sender = chat.account.provider_id if message.is_sender else chat.member.provider_id
    return {
        "object": "Message",
        "id": message.id,
        "chat_id": chat.id,
        "text": message.text,
        "is_sender": 1 if message.is_sender else 0,
        "sender_id": sender,
        "message_type": message.message_type,
        "timestamp": _iso(message.created_at),
    }


@sandbox_api(("GET", "POST"))
def chats(request):
    if request.method == "POST":
        if not request.content_type.startswith("multipart/form-data"):
            raise ProviderError(400, "invalid_parameters", "Send multipart/form-data.")
        message, outcome = engine.start_chat(
            account_id=request.POST.get("account_id", ""),
            attendee_ids=request.POST.getlist("attendees_ids"),
            text=request.POST.get("text", ""),
            inmail=request.POST.get("linkedin[inmail]", "").lower() == "true",
        )
        engine.after_effect(outcome)
        return JsonResponse({"object": "ChatStarted", "chat_id": message.chat_id, "message_id": message.id}, status=201)
    account = engine.account_by_id(request.GET.get("account_id", ""))
    queryset = _time_filters(
        request, SandboxChat.objects.filter(account=account).select_related("member"), "created_at"
    )

    def serialize(chat):
        last = chat.messages.order_by("-created_at").first()
        unread = chat.messages.filter(is_sender=False).count()
        return {
            "object": "Chat",
            "id": chat.id,
            "attendee_provider_id": chat.member.provider_id,
            "unread_count": unread,
            "timestamp": _iso(last.created_at if last else chat.created_at),
        }

    return _page(request, queryset.order_by("-created_at", "id"), serialize, object_name="ChatList", maximum=250)


@sandbox_api(("GET", "POST"))
def chat_messages(request, chat_id):
    if request.method == "POST":
        if not request.content_type.startswith("multipart/form-data"):
            raise ProviderError(400, "invalid_parameters", "Send multipart/form-data.")
        message, outcome = engine.send_in_chat(chat_id=chat_id, text=request.POST.get("text", ""))
        engine.after_effect(outcome)
        return JsonResponse({"object": "MessageSent", "message_id": message.id}, status=201)
    chat = SandboxChat.objects.filter(pk=chat_id).first()
    if chat is None:
        raise ProviderError(404, "resource_not_found", f"No chat {chat_id!r}.")
    queryset = _time_filters(request, chat.messages.select_related("chat__account", "chat__member"), "created_at")
    return _page(request, queryset.order_by("-created_at", "-id"), _message, object_name="MessageList", maximum=250)


@sandbox_api(("GET",))
def messages(request):
    account = engine.account_by_id(request.GET.get("account_id", ""))
    queryset = SandboxMessage.objects.filter(chat__account=account).select_related("chat__account", "chat__member")
    queryset = _time_filters(request, queryset, "created_at")
    return _page(request, queryset.order_by("created_at", "id"), _message, object_name="MessageList", maximum=250)


# --- lead sources ---


def _people(request, key: str, account: SandboxAccount, object_name: str) -> JsonResponse:
    config = SandboxSettings.load()
    limit = _limit(request, 100, default=10)
    offset = _offset(request)
    total = engine.people_of(key, config)
    items = [engine.person_at(key, n, account, config) for n in range(offset, min(offset + limit, total))]
    more = offset + limit < total
    next_cursor = base64.urlsafe_b64encode(str(offset + limit).encode()).decode() if more else None
    return JsonResponse(
        {"object": object_name, "items": items, "cursor": next_cursor, "paging": {"total_count": total}}
    )


@sandbox_api(("POST",))
def linkedin_search(request):
    account = engine.account_by_id(request.GET.get("account_id", ""))
    body = _json_body(request)
    api, url = body.get("api"), str(body.get("url") or "")
    if api not in ("classic", "sales_navigator", "recruiter") or body.get("category") != "people":
        raise ProviderError(
            400, "invalid_parameters", "api must be classic, sales_navigator or recruiter; category people."
        )
    if not url.startswith("https://www.linkedin.com/"):
        raise ProviderError(400, "invalid_parameters", "url must be a LinkedIn search URL.")
    if api == "sales_navigator" and account.feature != "sales_navigator":
        raise ProviderError(403, "feature_not_subscribed", "This account has no Sales Navigator.")
    engine.inject_faults(SandboxSettings.load(), engine.call_rng(SandboxSettings.load()), account)
    return _people(request, url, account, "LinkedinSearch")


@sandbox_api(("GET",))
def post_engagers(request, post_id, kind):
    account = engine.account_by_id(request.GET.get("account_id", ""))
    if kind not in ("reactions", "comments"):
        raise ProviderError(404, "resource_not_found", f"No {kind} on posts.")
    if not post_id.isdigit():
        raise ProviderError(404, "resource_not_found", f"No post {post_id!r}.")
    return _people(request, f"post:{post_id}:{kind}", account, "PostEngagerList")


# --- accounts and webhooks ---


FEATURES = {"classic": [], "sales_navigator": ["sales_navigator"], "recruiter": ["recruiter"]}


def _account(account: SandboxAccount) -> dict:
    features = list(FEATURES.get(account.feature, []))
    if account.premium and not features:
        features = ["premium"]
    return {
        "object": "Account",
        "type": "LINKEDIN",
        "id": account.account_id,
        "name": account.name,
        "created_at": _iso(account.created_at),
        "connection_params": {"im": {"id": account.provider_id, "premiumFeatures": features}},
        "sources": [{"id": f"{account.account_id}_MESSAGING", "status": account.status}],
    }


@sandbox_api(("GET",))
def accounts(request):
    return _page(request, SandboxAccount.objects.order_by("id"), _account, object_name="AccountList", maximum=250)


@sandbox_api(("GET",))
def account_detail(request, account_id):
    account = SandboxAccount.objects.filter(account_id=account_id).first()
    if account is None:
        raise ProviderError(404, "resource_not_found", f"No account {account_id!r}.")
    return JsonResponse(_account(account))


@sandbox_api(("GET",))
def inmail_balance(request):
    account = engine.account_by_id(request.GET.get("account_id", ""))
    if account.inmail_credits is None:
        raise ProviderError(404, "resource_not_found", "No InMail balance for this account.")
    return JsonResponse({"object": "LinkedinInmailBalance", "premium": account.inmail_credits})


@sandbox_api(("POST",))
def hosted_link(request):
    body = _json_body(request)
    kind = body.get("type")
    if kind not in ("create", "reconnect"):
        raise ProviderError(400, "invalid_parameters", "type must be create or reconnect.")
    for field in ("name", "notify_url", "expiresOn"):
        if not isinstance(body.get(field), str) or not body[field]:
            raise ProviderError(400, "invalid_parameters", f"{field} is required.")
    expires = parse_timestamp(body["expiresOn"])
    if expires is None or expires <= timezone.now():
        raise ProviderError(400, "invalid_parameters", "expiresOn must be a time in the future.")
    reconnect = str(body.get("reconnect_account") or "")
    if kind == "reconnect" and not SandboxAccount.objects.filter(account_id=reconnect).exists():
        raise ProviderError(400, "invalid_parameters", f"reconnect_account {reconnect!r} is not an account.")
    link = SandboxHostedLink.objects.create(
        id=engine.new_id("hl"),
        type=kind,
        name=body["name"],
        notify_url=body["notify_url"],
        success_redirect_url=str(body.get("success_redirect_url") or ""),
        failure_redirect_url=str(body.get("failure_redirect_url") or ""),
        reconnect_account=reconnect,
        expires_at=expires,
    )
    url = f"{settings.PUBLIC_BASE_URL}/sandbox/unipile/hosted/{link.id}/"
    return JsonResponse({"object": "HostedAuthURL", "url": url})


def hosted_page(request, link_id):
    """The sandbox's hosted-auth page: a simulated person "logs in" and the notify URL is called."""
    if not settings.UNIPILE_SANDBOX:
        raise Http404("The sandbox provider is off.")
    link = SandboxHostedLink.objects.filter(pk=link_id).first()
    if link is None:
        raise Http404("No such link.")
    account = (
        SandboxAccount.objects.filter(account_id=link.reconnect_account).first() if link.reconnect_account else None
    )
    context = {"link": link, "account": account, "features": list(FEATURES), "error": ""}
    if link.used_at or link.expires_at <= timezone.now():
        context["error"] = "This link has expired or was already used. Ask for a new one."
        return render(request, "sandbox/hosted.html", context, status=410)
    if request.method != "POST":
        return render(request, "sandbox/hosted.html", context)
    if request.POST.get("outcome") == "fail":
        return HttpResponseRedirect(link.failure_redirect_url or request.path)
    name = (request.POST.get("name") or "").strip()[:200]
    if account is None and not name:
        context["error"] = "Type the name of the person who logs in."
        return render(request, "sandbox/hosted.html", context, status=400)
    account, status = engine.hosted_login(
        link=link,
        account=account,
        name=name,
        feature=request.POST.get("feature", "classic"),
        premium=request.POST.get("premium") == "on",
    )
    payload = {"status": status, "account_id": account.account_id, "name": link.name}
    try:
        answer = requests.post(link.notify_url, json=payload, timeout=(3, 20))
        result = f"HTTP {answer.status_code}"
    except requests.RequestException as exc:
        result = exc.__class__.__name__
    SandboxHostedLink.objects.filter(pk=link.pk).update(notify_result=result)
    return HttpResponseRedirect(link.success_redirect_url or request.path)


@sandbox_api(("GET", "POST"))
def webhooks(request):
    if request.method == "POST":
        body = _json_body(request)
        source = body.get("source")
        if source not in ("messaging", "users", "account_status"):
            raise ProviderError(400, "invalid_parameters", "source must be messaging, users or account_status.")
        url = str(body.get("request_url") or "")
        if not url.startswith(("http://", "https://")):
            raise ProviderError(400, "invalid_parameters", "request_url must be an http(s) URL.")
        headers = body.get("headers") or []
        if not isinstance(headers, list) or not all(
            isinstance(h, dict) and "key" in h and "value" in h for h in headers
        ):
            raise ProviderError(400, "invalid_parameters", "headers must be a list of {key, value}.")
        hook = SandboxWebhook.objects.create(
            id=engine.new_id("wh"),
            source=source,
            request_url=url,
            name=str(body.get("name") or ""),
            headers=headers,
            events=body.get("events") or [],
        )
        return JsonResponse({"object": "WebhookCreated", "webhook_id": hook.id}, status=201)

    def serialize(hook):
        return {
            "object": "Webhook",
            "id": hook.id,
            "source": hook.source,
            "request_url": hook.request_url,
            "name": hook.name,
            "headers": hook.headers,
            "events": hook.events,
        }

    return _page(
        request, SandboxWebhook.objects.order_by("created_at", "id"), serialize, object_name="WebhookList", maximum=250
    )


@sandbox_api(("DELETE",))
def webhook_detail(request, webhook_id):
    deleted, _ = SandboxWebhook.objects.filter(pk=webhook_id).delete()
    if not deleted:
        raise ProviderError(404, "resource_not_found", f"No webhook {webhook_id!r}.")
    return JsonResponse({"object": "WebhookDeleted"})
