"""Inbound Unipile webhooks: authenticate, store, answer fast; process after commit, exactly once.

Processing of each event lives with the app that owns its data (inbox: messages, campaigns:
relations); those apps register their handler here at start-up, so integrations imports none of them.
"""

import datetime as dt
import json
import logging
import re
from collections.abc import Callable
from enum import StrEnum
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from outreach.unstorable import strip_unstorable

from .models import AccountStatusChange, LinkedInAccount, WebhookDelivery
from .services import account_record_status
from .unipile import parse_timestamp

logger = logging.getLogger("outreach.webhooks")

SOURCES = ("messaging", "users", "account_status")
MAX_BODY_BYTES = 1024 * 1024
SECRET_HEADERS = {"unipile-auth", "authorization", "cookie", "x-api-key"}
# Where a status delivery may carry its own time (unconfirmed in Unipile's material: read defensively).
STATUS_TIME_KEYS = ("timestamp", "date", "created_at", "occurred_at")
# A JSON escape that may decode to what PostgreSQL cannot store: \u0000, or a surrogate (a lone one among them).
MAY_HOLD_UNSTORABLE_RE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")

_handlers: dict[str, Callable[[dict, WebhookDelivery | None], str]] = {}


class BadPayload(ValueError):
    """The body is not a delivery we understand; the message says what is wrong."""


def register_handler(event: str, handler: Callable[[dict, WebhookDelivery | None], str]) -> None:
    """handler(payload, delivery) -> a short note of what it did; raises BadPayload for bad shapes."""
    _handlers[event] = handler


def _text(payload: dict, *keys: str) -> str:
    value = payload
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""


def classify(source: str, payload) -> tuple[str, str, str]:
    """(event, account id, dedupe key) of a delivery, or BadPayload naming what is wrong."""
    if not isinstance(payload, dict):
        raise BadPayload("the body must be a JSON object")
    if source == "account_status":
        status = payload.get("AccountStatus")
        if not isinstance(status, dict):
            raise BadPayload("an account status delivery has an AccountStatus object")
        account_id, message = _text(status, "account_id"), _text(status, "message")
        if not account_id or not message:
            raise BadPayload("AccountStatus needs account_id and message")
        # Only a delivery that says when it happened can be told apart from a real second change to the same
        # status (CREDENTIALS, OK, CREDENTIALS): without a time every delivery is kept and applied in order.
        when = status_time(payload)
        key = f"status:{account_id}:{message}:{when.isoformat()}" if when else ""
        return "account_status", account_id, key
    event, account_id = _text(payload, "event"), _text(payload, "account_id")
    if not event:
        raise BadPayload("the delivery names no event")
    if not account_id:
        raise BadPayload("the delivery names no account_id")
    if source == "messaging":
        message_id = _text(payload, "message_id")
        if not message_id:
            raise BadPayload(f"{event} without message_id")
        return event, account_id, f"{event}:{message_id}"
    if source == "users":
        member = _text(payload, "user_provider_id") or _text(payload, "user_public_identifier")
        if not member:
            raise BadPayload(f"{event} names no user (user_provider_id or user_public_identifier)")
        return event, account_id, f"{event}:{account_id}:{member}"
    raise BadPayload(f"unknown source {source!r}")


def status_time(payload: dict) -> dt.datetime | None:
    """The time a status delivery says it happened, if it says."""
    status = payload.get("AccountStatus") if isinstance(payload.get("AccountStatus"), dict) else {}
    for source in (status, payload):
        for key in STATUS_TIME_KEYS:
            if when := parse_timestamp(source.get(key)):
                return when
    return None


def safe_headers(meta_headers) -> dict:
    return {k: v for k, v in meta_headers.items() if k.lower() not in SECRET_HEADERS}


class Verdict(StrEnum):
    NEW = "new"
    DUPLICATE = "duplicate"
    INVALID = "invalid"  # stored as failed


class Stored(NamedTuple):
    delivery_id: int
    verdict: Verdict
    error: str = ""


def store(*, source: str, body: bytes, headers: dict) -> Stored:
    """Store the delivery before anything else happens to it; say what it was."""
    text = body.decode("utf-8", errors="replace")
    if "\x00" in text:
        text = text.replace("\x00", "")
    try:
        payload, removed = json.loads(text), 0
        if MAY_HOLD_UNSTORABLE_RE.search(text):  # the hot path skips the walk: one scan of the raw text
            payload, removed = strip_unstorable(payload)
        if removed:
            # Stored and processed without what the database cannot hold: the reply is still a reply.
            text = json.dumps(payload, ensure_ascii=False)
            headers = {**headers, "X-Outreach-Removed-Characters": str(removed)}
        event, account_id, key = classify(source, payload)
    except (ValueError, RecursionError) as exc:
        reason = str(exc) if isinstance(exc, BadPayload) else f"malformed JSON: {exc}"[:300]
        delivery = WebhookDelivery.objects.create(
            source=source,
            headers=headers,
            body=text,
            status=WebhookDelivery.Status.FAILED,
            error=reason,
            processed_at=timezone.now(),
        )
        return Stored(delivery.pk, Verdict.INVALID, reason)
    new_id = _insert_once(
        source=source, event=event[:60], account_id=account_id[:100], headers=headers, body=text, key=key[:255]
    )
    if new_id is None:
        original = (
            WebhookDelivery.objects.filter(source=source, dedupe_key=key[:255]).values_list("pk", flat=True).first()
        )
        delivery = WebhookDelivery.objects.create(
            source=source,
            event=event[:60],
            account_id=account_id[:100],
            headers=headers,
            body=text,
            status=WebhookDelivery.Status.IGNORED,
            error=f"duplicate of delivery {original}",
            processed_at=timezone.now(),
        )
        return Stored(delivery.pk, Verdict.DUPLICATE)
    return Stored(new_id, Verdict.NEW)


def _insert_once(*, source: str, event: str, account_id: str, headers: dict, body: str, key: str) -> int | None:
    """One INSERT ... ON CONFLICT DO NOTHING RETURNING id: the new row's id, or None for a duplicate.

    The hot path of intake: one round trip, no savepoint, no model machinery.
    """
    table = connection.ops.quote_name(WebhookDelivery._meta.db_table)
    sql = (
        f"INSERT INTO {table} (source, event, account_id, headers, body, dedupe_key, status, error, attempts, received_at) "  # noqa: S608
        "VALUES (%s, %s, %s, %s, %s, %s, %s, '', 0, %s) "
        "ON CONFLICT (source, dedupe_key) WHERE NOT (dedupe_key = '') DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                source,
                event,
                account_id,
                json.dumps(headers),
                body,
                key,
                WebhookDelivery.Status.RECEIVED,
                timezone.now(),
            ],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def process(delivery_id: int) -> str:
    """Run the handler of a stored delivery once; every outcome is written on the delivery."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.status != WebhookDelivery.Status.RECEIVED:
            return "already processed"
        delivery.attempts += 1
        try:
            payload = json.loads(delivery.body)
            handler = _handlers.get(delivery.event)
            if handler is None:
                delivery.status, delivery.error = WebhookDelivery.Status.IGNORED, f"no handler for {delivery.event!r}"
            else:
                with transaction.atomic():
                    note = handler(payload, delivery)
                delivery.status, delivery.error = WebhookDelivery.Status.PROCESSED, note or ""
        except BadPayload as exc:
            delivery.status, delivery.error = WebhookDelivery.Status.FAILED, str(exc)
        except Exception as exc:  # recorded on the delivery for the operator, and retried by reprocess
            logger.exception("webhook delivery %s failed", delivery.pk)
            delivery.status, delivery.error = WebhookDelivery.Status.FAILED, f"{exc.__class__.__name__}: {exc}"[:1000]
        delivery.processed_at = timezone.now()
        delivery.save(update_fields=["status", "error", "attempts", "processed_at"])
        return delivery.status


def process_pending(*, limit: int = 200) -> int:
    """Process up to `limit` received deliveries in arrival order; returns how many were taken."""
    ids = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.RECEIVED)
        .order_by("id")
        .values_list("pk", flat=True)[:limit]
    )
    for delivery_id in ids:
        process(delivery_id)
    return len(ids)


def delivery_reprocess(delivery: WebhookDelivery) -> str:
    if delivery.dedupe_key == "" and delivery.status == WebhookDelivery.Status.IGNORED:
        return "a duplicate is not processed"
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status=WebhookDelivery.Status.RECEIVED, error="")
    return process(delivery.pk)


def delivery_ignore(delivery: WebhookDelivery) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=WebhookDelivery.Status.IGNORED, processed_at=timezone.now()
    )


# --- account status -------------------------------------------------------------------------


def handle_account_status(payload: dict, delivery: WebhookDelivery | None) -> str:
    status = payload["AccountStatus"]
    new_status = _text(status, "message")
    if new_status not in LinkedInAccount.Status.values:
        raise BadPayload(f"unknown account status {new_status!r}")
    # Under the account's row lock, so two workers applying two deliveries agree on which came last.
    account = LinkedInAccount.objects.select_for_update().filter(unipile_account_id=_text(status, "account_id")).first()
    if account is None:
        return "unknown account: ignored"
    when = status_time(payload) or (delivery.received_at if delivery else timezone.now())
    return account_record_status(
        account=account, status=new_status, source=AccountStatusChange.Source.WEBHOOK, when=when
    ).message


register_handler("account_status", handle_account_status)
