"""Idempotency-Key on POST: the same key and body within 24 hours replays the stored response.

The first request claims the key by inserting a row (committed at once, so a concurrent twin sees
it); its response is stored when it finishes. A twin arriving while the first is still running gets
409 conflict; the same key with another body gets 422. Server errors and throttling are not stored,
so a retry after them acts again.
"""

import datetime as dt
import hashlib

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from outreach.models import IdempotencyKey

from .exceptions import ApiError

HEADER = "Idempotency-Key"
TTL = dt.timedelta(hours=24)
MAX_KEY_LENGTH = 255
REPLAYED_HEADERS = ("Location", "Content-Type")


def request_hash(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0" + request.path.encode())
    digest.update(b"\0" + request.META.get("QUERY_STRING", "").encode())
    digest.update(b"\0" + request.body)
    return digest.hexdigest()


def claim(request) -> IdempotencyKey | Response | None:
    """None without a header; the stored response to replay; or the claimed (new) record."""
    key = request.headers.get(HEADER)
    if key is None or request.method != "POST":
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ApiError(
            400,
            "validation_error",
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable characters.",
            {HEADER: ["Invalid key."]},
        )
    fingerprint = request_hash(request)
    user = request.user
    IdempotencyKey.objects.filter(user=user, key=key, created_at__lt=timezone.now() - TTL).delete()
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(user=user, key=key, request_hash=fingerprint)
    except IntegrityError:
        pass
    stored = IdempotencyKey.objects.filter(user=user, key=key).first()
    if stored is None:  # expired and deleted by a twin meanwhile
        raise ApiError(409, "conflict", "A request with this Idempotency-Key is being processed; retry shortly.")
    if stored.request_hash != fingerprint:
        raise ApiError(
            422,
            "conflict",
            "This Idempotency-Key was used with another request body or path; use a new key.",
            {HEADER: [key]},
        )
    if stored.status_code is None:
        raise ApiError(409, "conflict", "A request with this Idempotency-Key is still being processed; retry shortly.")
    response = Response(stored.response_body, status=stored.status_code)
    for name, value in stored.response_headers.items():
        if name != "Content-Type":
            response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def record(claimed: IdempotencyKey, response) -> None:
    """Store the response of a claimed key, or release the key when the result should not be replayed."""
    if response.status_code >= 500 or response.status_code == 429 or not hasattr(response, "data"):
        IdempotencyKey.objects.filter(pk=claimed.pk).delete()
        return
    headers = {name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)}
    IdempotencyKey.objects.filter(pk=claimed.pk).update(
        status_code=response.status_code, response_body=response.data, response_headers=headers
    )


def purge_expired() -> int:
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - TTL).delete()
    return deleted
