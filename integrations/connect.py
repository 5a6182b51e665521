"""Connecting and reconnecting LinkedIn accounts through Unipile's hosted auth (UNIPILE.md, "Hosted auth").

We ask Unipile for a link; the account's owner logs in on Unipile's page; Unipile calls our notify URL with the
account id and the `name` we gave. That call has no signature of Unipile's, so `name` carries a token of ours:
the link's public id and a random secret of which only the SHA-256 digest is stored. A notification is accepted
once, before the link expires, for what the link was made for (a new account of its client, or the one account
it reconnects); anything else is refused and recorded as a failed delivery.
"""

import datetime as dt
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .models import AccountStatusChange, HostedAuthLink, LinkedInAccount, WebhookDelivery
from .services import account_apply_remote, account_create, account_record_status
from .unipile import UnipileClient, UnipileError

logger = logging.getLogger("outreach.connect")

TOKEN_PREFIX = "outreach1"
NOTIFY_SOURCE = "hosted_auth"
# Statuses the notify call carries when the owner got through (anything else: the attempt failed).
SUCCESS_STATUSES = {"CREATION_SUCCESS", "RECONNECTED", "OK", "SYNC_SUCCESS"}
_DUMMY_DIGEST = hashlib.sha256(b"no such link").hexdigest()


class ConnectRefused(Exception):
    """A link cannot be had; the message says why, for the person who asked."""


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def link_expiry(now: dt.datetime) -> dt.datetime:
    """Our own expiry, and never past Unipile's daily restart, which ends every link."""
    restart = now.astimezone(dt.UTC).replace(
        hour=settings.UNIPILE_DAILY_RESTART_UTC_HOUR, minute=0, second=0, microsecond=0
    )
    if restart <= now:
        restart += dt.timedelta(days=1)
    return min(now + dt.timedelta(minutes=settings.HOSTED_AUTH_LINK_MINUTES), restart)


def hosted_link_request(
    *, client, user=None, account: LinkedInAccount | None = None, unipile: UnipileClient | None = None
) -> HostedAuthLink:
    """A connect link for a client, or a reconnect link for one of its accounts. Nothing is stored unless
    Unipile gave a link."""
    if account is not None and account.client_id != client.pk:
        raise ConnectRefused(f"{account} is not an account of {client}.")
    if account is not None and account.status == LinkedInAccount.Status.DELETED:
        raise ConnectRefused(f"{account} was deleted at Unipile: connect it as a new account instead.")
    now = timezone.now()
    public_id, secret = secrets.token_hex(8), secrets.token_urlsafe(24)
    expires_at = link_expiry(now)
    base = settings.PUBLIC_BASE_URL
    kind = HostedAuthLink.Kind.RECONNECT if account is not None else HostedAuthLink.Kind.CREATE
    try:
        unipile = unipile or UnipileClient.from_settings()
        answer = unipile.request_hosted_link(
            kind=kind,
            name=f"{TOKEN_PREFIX}.{public_id}.{secret}",
            notify_url=base + reverse("hosted-auth-notify"),
            expires_at=expires_at,
            success_url=base + reverse("connect-done") + "?result=connected",
            failure_url=base + reverse("connect-done") + "?result=failed",
            reconnect_account_id=account.unipile_account_id if account is not None else "",
        )
    except ValueError as exc:  # Unipile is not configured
        raise ConnectRefused(str(exc)) from None
    except UnipileError as exc:
        raise ConnectRefused(
            f"Unipile did not give a link ({exc}). Nothing was created; try again in a minute."
        ) from None
    return HostedAuthLink.objects.create(
        public_id=public_id,
        secret_digest=_digest(secret),
        kind=kind,
        client=client,
        account=account,
        requested_by=user if user is not None and user.is_authenticated else None,
        url=answer.url,
        created_at=now,
        expires_at=expires_at,
    )


class NotifyVerdict(StrEnum):
    CONNECTED = "connected"
    RECONNECTED = "reconnected"
    MALFORMED = "malformed"
    REFUSED = "refused"
    NOT_COMPLETED = "not_completed"


@dataclass
class NotifyResult:
    verdict: NotifyVerdict
    message: str
    delivery_id: int
    account: LinkedInAccount | None = None


def _parse(body: bytes) -> tuple[dict, str, str, str]:
    payload = json.loads(body)
    if not isinstance(payload, dict):
        raise ValueError("the body is not a JSON object")
    name, account_id = payload.get("name"), payload.get("account_id")
    if not isinstance(name, str) or not isinstance(account_id, str) or not account_id.strip():
        raise ValueError("name and account_id are required strings")
    status = payload.get("status") or payload.get("message") or ""
    return payload, name, account_id.strip(), str(status).upper()


def _token_link(name: str) -> HostedAuthLink | None:
    """The link whose token this is, or None; the secret is compared in constant time, found or not."""
    prefix, _, rest = name.partition(".")
    public_id, _, secret = rest.partition(".")
    link = HostedAuthLink.objects.filter(public_id=public_id).select_related("client", "account").first()
    if prefix != TOKEN_PREFIX or not public_id:
        link = None
    expected = link.secret_digest if link is not None else _DUMMY_DIGEST
    if not hmac.compare_digest(_digest(secret).encode(), expected.encode()) or link is None:
        return None
    return link


def hosted_auth_notify(*, body: bytes, headers: dict, unipile: UnipileClient | None = None) -> NotifyResult:
    """Store the notification, then create or reconnect the account it is about, or refuse it (recorded)."""
    delivery = WebhookDelivery.objects.create(
        source=NOTIFY_SOURCE, event="notify", headers=headers, body=body.decode("utf-8", "replace")
    )

    def finish(verdict, message, account=None, *, status=WebhookDelivery.Status.FAILED):
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=status, error=message[:1000], processed_at=timezone.now(), attempts=1
        )
        if verdict not in (NotifyVerdict.CONNECTED, NotifyVerdict.RECONNECTED):
            logger.warning("hosted-auth notification %s refused: %s", delivery.pk, message)
        return NotifyResult(verdict, message, delivery.pk, account)

    try:
        payload, name, account_id, status = _parse(body)
    except ValueError as exc:
        return finish(NotifyVerdict.MALFORMED, f"not a notification we understand: {exc}")
    WebhookDelivery.objects.filter(pk=delivery.pk).update(account_id=account_id[:100], event=f"notify {status}"[:60])
    link = _token_link(name)
    now = timezone.now()
    if link is None:
        return finish(NotifyVerdict.REFUSED, "forged or foreign: the token is not one of our links")
    if link.used_at is not None:
        return finish(
            NotifyVerdict.REFUSED, f"replayed: the link was already used at {link.used_at:%Y-%m-%d %H:%M:%S} UTC"
        )
    if link.is_expired(now):
        return finish(NotifyVerdict.REFUSED, f"expired: the link ended at {link.expires_at:%Y-%m-%d %H:%M:%S} UTC")
    if status and status not in SUCCESS_STATUSES:
        # The owner did not get through (wrong password, abandoned checkpoint): the link stays usable.
        return finish(NotifyVerdict.NOT_COMPLETED, f"Unipile reports {status}: the owner did not get through")
    if link.kind == HostedAuthLink.Kind.RECONNECT and account_id != link.account.unipile_account_id:
        return finish(
            NotifyVerdict.REFUSED,
            f"foreign: the link reconnects {link.account.unipile_account_id}, the notification is for {account_id}",
        )
    bound = LinkedInAccount.objects.filter(unipile_account_id=account_id).first()
    if bound is not None and bound.client_id != link.client_id:
        return finish(NotifyVerdict.REFUSED, f"account {account_id} is connected for another client already")
    try:
        remote = (unipile or UnipileClient.from_settings()).get_account(account_id=account_id)
    except (UnipileError, ValueError) as exc:
        remote = None  # created all the same; the periodic sync reads its details later
        logger.warning("hosted auth: could not read account %s from Unipile: %s", account_id, exc)
    with transaction.atomic():
        if not HostedAuthLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=now):
            return finish(NotifyVerdict.REFUSED, "replayed: the link was used a moment ago")
        account = link.account if link.kind == HostedAuthLink.Kind.RECONNECT else bound
        if account is None:
            name_given = (remote.name if remote else "") or str(payload.get("account_name") or "") or account_id
            account = account_create(
                client=link.client,
                unipile_account_id=account_id,
                name=name_given[:200],
                remote=remote,
                source=AccountStatusChange.Source.CONNECT,
            )
            verdict, message = NotifyVerdict.CONNECTED, f"{account} connected for {link.client}"
        else:
            if remote is not None:
                account_apply_remote(account=account, remote=remote, source=AccountStatusChange.Source.CONNECT)
            verdict, message = NotifyVerdict.RECONNECTED, f"{account} reconnected"
        if account.status not in LinkedInAccount.WORKING_STATUSES:
            # The owner got through: the notification says so even when Unipile's account list lags behind.
            fallback = "CREATION_SUCCESS" if verdict == NotifyVerdict.CONNECTED else "RECONNECTED"
            account_record_status(
                account=account,
                status=status if status in LinkedInAccount.WORKING_STATUSES else fallback,
                source=AccountStatusChange.Source.CONNECT,
                when=now,
                detail="hosted auth notification",
            )
        if remote is None:
            message += " (details are read from Unipile at the next account sync)"
        HostedAuthLink.objects.filter(pk=link.pk).update(account=account, result=message[:300])
        return finish(verdict, message, account, status=WebhookDelivery.Status.PROCESSED)
