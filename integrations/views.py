import hmac
import logging

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from outreach.errors import error_response

from . import connect, webhooks
from .models import WebhookDelivery
from .tasks import kick_processing

logger = logging.getLogger("outreach.webhooks")


def _read_body(request) -> bytes | None:
    """The request body, or None when it is over the limit.

    Django reads a body by its Content-Length only: a chunked request (no length; the server in front has
    decoded the chunks) would look empty. It is read from the stream then, never more than the limit + 1.
    """
    try:
        length = int(request.headers.get("Content-Length") or -1)
    except ValueError:
        length = -1
    if length > webhooks.MAX_BODY_BYTES:
        return None
    if length >= 0 or "chunked" not in request.headers.get("Transfer-Encoding", "").lower():
        return request.body
    stream, chunks, size = request.environ["wsgi.input"], [], 0
    while size <= webhooks.MAX_BODY_BYTES:
        chunk = stream.read(min(64 * 1024, webhooks.MAX_BODY_BYTES + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    body = b"".join(chunks)
    return None if len(body) > webhooks.MAX_BODY_BYTES else body


@csrf_exempt
@require_POST
def unipile_webhook(request, source):
    if source not in webhooks.SOURCES:
        return error_response(404, "not_found", f"Unknown webhook source {source!r}.")
    secret = settings.UNIPILE_WEBHOOK_SECRET
    given = request.headers.get("Unipile-Auth", "")
    if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
        key = f"webhooks:refused:{timezone.now():%Y%m%d}"
        cache.add(key, 0, 3 * 86400)
        cache.incr(key)
        logger.warning(
            "refused webhook on %s: %s",
            source,
            "no secret configured" if not secret else "wrong or missing Unipile-Auth",
        )
        return error_response(401, "not_authenticated", "Missing or wrong Unipile-Auth header.")
    headers = webhooks.safe_headers(request.headers)
    body = _read_body(request)
    if body is None or len(body) > webhooks.MAX_BODY_BYTES:
        size = request.headers.get("Content-Length") or "more than 1 MB of"
        WebhookDelivery.objects.create(
            source=source, headers=headers, status="failed", error=f"body of {size} bytes refused (1 MB at most)"
        )
        return error_response(413, "payload_too_large", "The body is larger than 1 MB.")
    stored = webhooks.store(source=source, body=body, headers=headers)
    if stored.verdict == webhooks.Verdict.INVALID:
        return error_response(
            400, "validation_error", f"Not a delivery we understand: {stored.error}", {"delivery": stored.delivery_id}
        )
    if stored.verdict == webhooks.Verdict.NEW:
        transaction.on_commit(kick_processing)
    # Written by hand: this is the hot path, and JsonResponse's encoder costs more than the answer is worth.
    duplicate = "true" if stored.verdict == webhooks.Verdict.DUPLICATE else "false"
    return HttpResponse(
        f'{{"received": true, "duplicate": {duplicate}, "delivery": {stored.delivery_id}}}',
        content_type="application/json",
    )


@csrf_exempt
@require_POST
def hosted_auth_notify(request):
    """Unipile's call after an owner logged in on a hosted-auth page. Authenticated by our token in `name`."""
    body = _read_body(request)
    if body is None:
        return error_response(413, "payload_too_large", "The body is larger than 1 MB.")
    result = connect.hosted_auth_notify(body=body, headers=webhooks.safe_headers(request.headers))
    if result.verdict == connect.NotifyVerdict.MALFORMED:
        return error_response(400, "validation_error", result.message, {"delivery": result.delivery_id})
    if result.verdict == connect.NotifyVerdict.REFUSED:
        return error_response(403, "permission_denied", "Refused: " + result.message, {"delivery": result.delivery_id})
    return JsonResponse({"received": True, "result": result.verdict.value, "delivery": result.delivery_id})


def connect_done(request):
    """Where Unipile's hosted page sends the account's owner at the end. Says nothing about any account."""
    connected = request.GET.get("result") == "connected"
    return render(request, "accounts/connect_done.html", {"connected": connected})
