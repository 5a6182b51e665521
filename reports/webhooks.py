"""/webhooks/resend/: delivery events for our emails, signed the Svix way.

Signature: base64(HMAC-SHA256(secret, "{svix-id}.{svix-timestamp}.{body}")), where the secret is the
base64 part of RESEND_WEBHOOK_SECRET (whsec_...). svix-signature lists "v1,<sig>" entries separated
by spaces; any one matching (compared in constant time) is enough. Timestamps more than five minutes
away from now are refused (replays). Each svix-id is stored once.
"""

import base64
import binascii
import hashlib
import hmac
import json
import logging
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.models import WebhookDelivery
from integrations.webhooks import safe_headers
from outreach.errors import error_response

from .models import ReportDelivery, ReportOptOut

logger = logging.getLogger("outreach.reports")
TOLERANCE_SECONDS = 5 * 60
MAX_BODY_BYTES = 256 * 1024
OUTCOME_FOR_EVENT = {"email.delivered": "delivered", "email.bounced": "bounced", "email.complained": "complained"}


class BadSignature(Exception):
    pass


class MalformedSignatureHeaders(BadSignature):
    """The svix headers cannot even be read: a 400, not a refused signature."""


def _secret_bytes(secret: str) -> bytes:
    raw = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return raw.encode()


def verify(*, secret: str, msg_id: str, timestamp: str, signatures: str, body: bytes, now: float | None = None):
    if not (secret and msg_id and timestamp and signatures):
        raise BadSignature("missing svix-id, svix-timestamp or svix-signature")
    # Seconds since 1970 as at most 12 ASCII digits: a longer number would overflow the comparison below.
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise MalformedSignatureHeaders("svix-timestamp is not a number of seconds")
    sent = int(timestamp)
    if abs((now or time.time()) - sent) > TOLERANCE_SECONDS:
        raise BadSignature("svix-timestamp is more than 5 minutes off")
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(_secret_bytes(secret), signed, hashlib.sha256).digest())
    found = False
    for entry in signatures.split():
        version, _, value = entry.partition(",")
        if version == "v1" and hmac.compare_digest(expected, value.encode()):
            found = True
    if not found:
        raise BadSignature("no matching v1 signature")


def record_event(payload: dict) -> str:
    """What a verified event changes on our deliveries: a short note."""
    event = payload.get("type")
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    outcome = OUTCOME_FOR_EVENT.get(event)
    email_id = str(data.get("email_id") or "")
    if outcome is None:
        return f"{event}: not tracked"
    if not email_id:
        return f"{event} without data.email_id: ignored"
    with transaction.atomic():
        delivery = None
        for candidate in ReportDelivery.objects.select_for_update().filter(sent_to__icontains=email_id):
            if email_id in candidate.sent_to.values():
                delivery = candidate
                break
        if delivery is None:
            return f"{event} for unknown email {email_id}"
        recipient = next(address for address, sent_id in delivery.sent_to.items() if sent_id == email_id)
        outcomes = dict(delivery.outcomes)
        if outcomes.get(recipient) in ("bounced", "complained") and outcome == "delivered":
            return f"{recipient}: already {outcomes[recipient]}"
        outcomes[recipient] = outcome
        ReportDelivery.objects.filter(pk=delivery.pk).update(outcomes=outcomes)
        if outcome in ("bounced", "complained"):
            ReportOptOut.objects.get_or_create(
                client_id=delivery.client_id, email=recipient.lower(), defaults={"reason": outcome}
            )
    return f"{recipient}: {outcome}"


@csrf_exempt
@require_POST
def resend_webhook(request):
    body = request.body[: MAX_BODY_BYTES + 1]
    if len(body) > MAX_BODY_BYTES:
        return error_response(413, "payload_too_large", "The body is larger than 256 KB.")
    msg_id = request.headers.get("svix-id", "")
    try:
        verify(
            secret=settings.RESEND_WEBHOOK_SECRET,
            msg_id=msg_id,
            timestamp=request.headers.get("svix-timestamp", ""),
            signatures=request.headers.get("svix-signature", ""),
            body=body,
        )
    except MalformedSignatureHeaders as exc:
        logger.warning("refused Resend webhook: %s", exc)
        return error_response(400, "validation_error", f"Bad signature headers: {exc}.", {"svix-timestamp": [str(exc)]})
    except BadSignature as exc:
        logger.warning("refused Resend webhook: %s", exc)
        return error_response(401, "not_authenticated", f"Signature refused: {exc}.")
    try:
        payload = json.loads(body)
        if not isinstance(payload, dict):
            raise ValueError("not an object")
    except (ValueError, RecursionError):
        WebhookDelivery.objects.create(
            source="resend",
            headers=safe_headers(request.headers),
            body=body.decode(errors="replace"),
            status=WebhookDelivery.Status.FAILED,
            error="body is not a JSON object",
        )
        return error_response(400, "validation_error", "The body must be a JSON object.")
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                source="resend",
                event=str(payload.get("type") or "")[:60],
                headers=safe_headers(request.headers),
                body=body.decode(errors="replace"),
                dedupe_key=msg_id[:255],
            )
    except IntegrityError:
        return HttpResponse('{"received": true, "duplicate": true}', content_type="application/json")
    note = record_event(payload)
    tracked = payload.get("type") in OUTCOME_FOR_EVENT
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.PROCESSED if tracked else WebhookDelivery.Status.IGNORED,
        error="" if tracked else note,
    )
    return HttpResponse('{"received": true, "duplicate": false}', content_type="application/json")
