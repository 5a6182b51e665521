"""Events out: signed webhooks (Standard Webhooks) to the endpoints clients subscribe, never lost.

`emit` writes an OutboxEvent and one EventDelivery per subscribed endpoint in the caller's transaction, so an
event exists exactly when its change was committed. Workers claim due deliveries under a lease (a worker that
dies leaves its claim to expire, and the delivery is sent again: at least once), sign them, and record each
attempt. A lead's deliveries to an endpoint go out in order: one waits while an earlier one is open.
"""

import base64
import datetime as dt
import ipaddress
import json
import logging
import random
import secrets
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from standardwebhooks import Webhook

from .models import EventDelivery, OutboxEvent, WebhookEndpoint

logger = logging.getLogger("outreach.outbound")

PAYLOAD_VERSION = "2026-12-01"
EVENT_TYPES = {
    "lead.imported": "A lead was added to a campaign (import, API or admin).",
    "lead.invited": "An invitation was sent to the lead.",
    "lead.connected": "The lead accepted the invitation.",
    "lead.messaged": "A sequence message or InMail was sent to the lead.",
    "lead.replied": "The lead replied; the sequence stopped. Carries the reply text and the conversation link.",
    "lead.status_changed": "Any change of the lead's status.",
    "lead.opted_out": "The lead opted out or was put on the do-not-contact list.",
    "conversation.assigned": "A conversation was assigned to a member.",
    "message.received": "A message from the person arrived in a conversation.",
    "message.sent": "A message was sent in a conversation (sequence or staff reply).",
    "campaign.activated": "A campaign was activated.",
    "campaign.paused": "A campaign was paused.",
    "campaign.completed": "A campaign finished.",
    "account.disconnected": "A sender account needs its owner to reconnect it.",
    "account.reconnected": "A sender account works again after a disconnection.",
    "ping": "A test event sent from the admin or the API.",
}
TIMEOUT_SECONDS = 10
RESPONSE_EXCERPT_BYTES = 2048
LEASE_SECONDS = 60


class UnsafeTarget(Exception):
    """The URL may not be called: not https, or it resolves to a loopback, private, link-local or metadata
    address. The message names the problem (for the url field)."""


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _allow_insecure() -> bool:
    return settings.OUTBOUND_WEBHOOKS_ALLOW_INSECURE


def resolve(host: str, port: int) -> list[str]:
    """The addresses a host name resolves to (the seam tests replace: no DNS here)."""
    return [info[4][0] for info in socket.getaddrinfo(host, port)]


def check_target(url: str) -> None:
    """Refuse what a webhook must never reach: checked when an endpoint is saved and before each delivery."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeTarget("Enter a full https:// URL.")
    if parts.scheme == "http" and not _allow_insecure():
        raise UnsafeTarget("The URL must use https://.")
    if parts.username or parts.password:
        raise UnsafeTarget("The URL must not carry a user name or password.")
    try:
        addresses = resolve(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (OSError, UnicodeError):
        raise UnsafeTarget(f"The host {parts.hostname!r} does not resolve.") from None
    if _allow_insecure():
        return
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        if (
            address.is_loopback
            or address.is_private
            or address.is_link_local
            or address.is_multicast
            or address.is_reserved
            or address.is_unspecified
            or (address.version == 6 and address.ipv4_mapped and not address.ipv4_mapped.is_global)
        ):
            raise UnsafeTarget(
                f"The host {parts.hostname!r} resolves to {address}, a loopback, private, link-local or metadata "
                "address: webhooks only go to public addresses."
            )


# --- writing events ---------------------------------------------------------------------------------------


def _string_ids(value):
    """Ids go out as strings (JavaScript receivers lose precision on large numbers)."""
    if isinstance(value, dict):
        return {k: (str(v) if (k == "id" or k.endswith("_id")) and isinstance(v, int) else _string_ids(v))
                for k, v in value.items()}  # fmt: skip
    if isinstance(value, list):
        return [_string_ids(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return value


def emit(*, client_id: int, type: str, data: dict, lead_id: int | None = None, endpoints=None) -> OutboxEvent | None:
    """Write the event for every enabled endpoint of the client that wants it, in the caller's transaction.
    Nothing is written when nobody subscribes."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    if endpoints is None:
        endpoints = WebhookEndpoint.objects.filter(client_id=client_id, enabled=True)
    wanted = [e for e in endpoints if e.wants(type)]
    if not wanted:
        return None
    now = timezone.now()
    public_id = "evt_" + secrets.token_hex(12)
    payload = {
        "type": type,
        "id": public_id,
        "version": PAYLOAD_VERSION,
        "created_at": now,
        "client_id": client_id,
        "data": data,
    }
    event = OutboxEvent.objects.create(
        public_id=public_id, client_id=client_id, type=type, lead_id=lead_id, payload=_string_ids(payload),
        created_at=now,
    )  # fmt: skip
    EventDelivery.objects.bulk_create(
        EventDelivery(event=event, endpoint=e, order_key=str(lead_id or ""), next_attempt_at=now, created_at=now)
        for e in wanted
    )
    from .tasks import kick_outbound

    transaction.on_commit(kick_outbound)
    return event


# --- endpoints ----------------------------------------------------------------------------------------------


@transaction.atomic
def endpoint_create(*, client, url: str, events: list[str], description: str = "", enabled: bool = True):
    check_target(url)
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise UnsafeTarget(f"Unknown event type(s): {', '.join(unknown)}.")
    return WebhookEndpoint.objects.create(
        client=client, url=url, events=events, description=description, enabled=enabled, secret=new_secret()
    )


@transaction.atomic
def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret; the old one stays valid for 24 hours, so receivers can switch without losing a delivery."""
    now = timezone.now()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret=F("secret"), previous_secret_expires_at=now + dt.timedelta(hours=24), secret=new_secret()
    )
    endpoint.refresh_from_db()
    return endpoint


@transaction.atomic
def endpoint_enable(*, endpoint: WebhookEndpoint) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=True, disabled_reason="", consecutive_failures=0)


def endpoint_ping(*, endpoint: WebhookEndpoint) -> EventDelivery:
    """Send a ping event to this endpoint now; the delivery says what happened."""
    with transaction.atomic():
        event = emit(
            client_id=endpoint.client_id,
            type="ping",
            data={"endpoint_id": endpoint.pk, "message": "A test event from Outreach."},
            endpoints=[endpoint],
        )
        delivery = event.deliveries.get()
    dispatch(deliveries=[delivery.pk])
    delivery.refresh_from_db()
    return delivery


# --- delivering ---------------------------------------------------------------------------------------------


@dataclass
class DispatchResult:
    delivered: int = 0
    failed: int = 0
    gave_up: int = 0
    ids: list[int] = field(default_factory=list)


def _claim(now: dt.datetime, limit: int, only: list[int] | None) -> list[EventDelivery]:
    earlier_open = EventDelivery.objects.filter(
        endpoint=OuterRef("endpoint"), order_key=OuterRef("order_key"), id__lt=OuterRef("id"),
        status__in=EventDelivery.OPEN_STATUSES,
    ).exclude(order_key="")  # fmt: skip
    due = Q(status=EventDelivery.Status.PENDING, next_attempt_at__lte=now) | Q(
        status=EventDelivery.Status.SENDING, lease_until__lt=now
    )
    queryset = EventDelivery.objects.filter(due).filter(~Exists(earlier_open))
    if only is not None:
        queryset = queryset.filter(pk__in=only)
    with transaction.atomic():
        claimed = list(
            queryset.select_for_update(skip_locked=True, of=("self",)).select_related("event", "endpoint")
            .order_by("id")[:limit]
        )  # fmt: skip
        EventDelivery.objects.filter(pk__in=[d.pk for d in claimed]).update(
            status=EventDelivery.Status.SENDING, lease_until=now + dt.timedelta(seconds=LEASE_SECONDS)
        )
    return claimed


def _body(event: OutboxEvent) -> bytes:
    return json.dumps(event.payload, separators=(",", ":"), ensure_ascii=False).encode()


def signed_headers(endpoint: WebhookEndpoint, event: OutboxEvent, body: bytes, now: dt.datetime) -> dict:
    signatures = " ".join(Webhook(s).sign(event.public_id, now, body) for s in endpoint.signing_secrets(now))
    return {
        "Content-Type": "application/json",
        "User-Agent": "Outreach-Webhooks/1",
        "webhook-id": event.public_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signatures,
    }


def _send(delivery: EventDelivery, session: requests.Session, now: dt.datetime) -> tuple[int | None, str, int, str]:
    """(status code or None, error, latency ms, response excerpt)."""
    endpoint, event = delivery.endpoint, delivery.event
    started = time.monotonic()
    try:
        check_target(endpoint.url)
        body = _body(event)
        response = session.post(
            endpoint.url,
            data=body,
            headers=signed_headers(endpoint, event, body, now),
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
            stream=True,
        )
        try:
            excerpt = response.raw.read(RESPONSE_EXCERPT_BYTES + 1, decode_content=True) or b""
        finally:
            if len(excerpt) <= RESPONSE_EXCERPT_BYTES:
                response.raw.release_conn()  # the whole answer was read: the connection is kept for the next
            else:
                response.close()  # more than we read: never drained, the connection goes
        excerpt = excerpt[:RESPONSE_EXCERPT_BYTES]
        code = response.status_code
        error = "" if 200 <= code < 300 else f"HTTP {code}"
        return code, error, int((time.monotonic() - started) * 1000), excerpt.decode("utf-8", "replace")
    except UnsafeTarget as exc:
        return None, f"refused: {exc}", 0, ""
    except requests.RequestException as exc:
        return None, exc.__class__.__name__, int((time.monotonic() - started) * 1000), ""


def _retry_delay(attempts: int) -> dt.timedelta | None:
    """After the n-th failed attempt (settings.OUTBOUND_WEBHOOK_RETRY_SECONDS: about three days: 5 s, 30 s,
    2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, then every 12 h); None once they are spent."""
    schedule = settings.OUTBOUND_WEBHOOK_RETRY_SECONDS
    if attempts > len(schedule):
        return None
    base = schedule[attempts - 1]
    return dt.timedelta(seconds=random.uniform(base * 0.8, base * 1.2))


def _record(delivery: EventDelivery, code, error, latency, excerpt, now) -> str:
    attempts = delivery.attempts + 1
    fields = {
        "attempts": attempts, "last_status_code": code, "last_error": error[:500], "last_latency_ms": latency,
        "response_excerpt": excerpt[:RESPONSE_EXCERPT_BYTES], "lease_until": None,
    }  # fmt: skip
    endpoint = delivery.endpoint
    if not error:
        fields.update(status=EventDelivery.Status.DELIVERED, delivered_at=now)
        outcome = "delivered"
        if endpoint.consecutive_failures:  # as loaded with the claim: no write on the common path
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
    else:
        delay = _retry_delay(attempts)
        if code == 410:
            fields["status"], outcome = EventDelivery.Status.CANCELLED, "gave_up"
            endpoint_disable(endpoint=endpoint, reason="the receiver answered 410 Gone")
        elif delay is None:
            fields["status"], outcome = EventDelivery.Status.FAILED, "gave_up"
        else:
            fields.update(status=EventDelivery.Status.PENDING, next_attempt_at=now + delay)
            outcome = "failed"
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=F("consecutive_failures") + 1)
        failures = WebhookEndpoint.objects.values_list("consecutive_failures", flat=True).get(pk=endpoint.pk)
        if failures >= settings.OUTBOUND_WEBHOOK_DISABLE_AFTER_FAILURES and code != 410:
            endpoint_disable(endpoint=endpoint, reason=f"{failures} failed attempts in a row (last: {error})")
    # Only the worker holding the claim records it (a lease that ran out was claimed again elsewhere).
    EventDelivery.objects.filter(pk=delivery.pk, status=EventDelivery.Status.SENDING).update(**fields)
    return outcome


def endpoint_disable(*, endpoint: WebhookEndpoint, reason: str) -> None:
    """Stop sending to an endpoint; its open deliveries are kept (replay them once it works again). The
    client's operators are told once, when it is disabled."""
    updated = WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=True).update(
        enabled=False, disabled_reason=reason[:300]
    )
    if not updated:
        return
    logger.warning("webhook endpoint %s disabled: %s", endpoint.pk, reason)
    EventDelivery.objects.filter(endpoint=endpoint, status=EventDelivery.Status.PENDING).update(
        status=EventDelivery.Status.CANCELLED, last_error=f"endpoint disabled: {reason}"[:500]
    )
    from .notices import endpoint_disabled_email

    transaction.on_commit(lambda: endpoint_disabled_email(endpoint_id=endpoint.pk, reason=reason))


def dispatch(
    *, now: dt.datetime | None = None, limit: int = 200, deliveries: list[int] | None = None,
    session: requests.Session | None = None,
) -> DispatchResult:  # fmt: skip
    """Claim and send due deliveries (a lead's in order); returns what happened."""
    now = now or timezone.now()
    result = DispatchResult()
    session = session or requests.Session()
    enabled: dict[int, bool] = {}  # per endpoint, read again after a failure (which may have disabled it)
    for delivery in _claim(now, limit, deliveries):
        if delivery.endpoint_id not in enabled:
            enabled[delivery.endpoint_id] = WebhookEndpoint.objects.filter(
                pk=delivery.endpoint_id, enabled=True
            ).exists()
        if not enabled[delivery.endpoint_id]:
            EventDelivery.objects.filter(pk=delivery.pk).update(
                status=EventDelivery.Status.CANCELLED, lease_until=None, last_error="endpoint disabled"
            )
            continue
        code, error, latency, excerpt = _send(delivery, session, timezone.now())
        outcome = _record(delivery, code, error, latency, excerpt, timezone.now())
        if outcome != "delivered":
            enabled.pop(delivery.endpoint_id, None)
        setattr(result, outcome, getattr(result, outcome) + 1)
        result.ids.append(delivery.pk)
    return result


def deliveries_replay(*, deliveries) -> int:
    """Send again (a delivery, or every one in a time range): back to pending now, whatever their state."""
    return deliveries.exclude(status=EventDelivery.Status.SENDING).update(
        status=EventDelivery.Status.PENDING, next_attempt_at=timezone.now(), lease_until=None
    )
