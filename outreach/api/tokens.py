"""API tokens: issued with a key shown once, stored as a SHA-256 digest, revocable, optionally expiring.

Every way of issuing one (the admin's token page, the user action, `manage.py api_token`) goes through
`api_token_issue`; the key never reaches the database, a log or the messages cookie.
"""

import datetime as dt
import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from outreach.models import ApiToken

KEY_PREFIX = "otk_"
PREFIX_LENGTH = 12  # "otk_" and 8 characters of the secret: enough to tell tokens apart, useless to guess with
MAX_KEY_LENGTH = 200


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_check(*, user, name: str = "", expires_at: dt.datetime | None = None, created_by=None) -> None:
    """Raise ValidationError, by field, for a token that may not be issued.

    A token acts with all its user's rights, so only a superuser issues one for a staff member or a
    superuser other than themselves: an operator cannot mint a key that does more than they can.
    """
    errors = {}
    if not user.is_active:
        errors["user"] = f"User {user.username!r} is inactive; activate it before issuing a token."
    elif (
        created_by is not None
        and not created_by.is_superuser
        and created_by.pk != user.pk
        and (user.is_staff or user.is_superuser)
    ):
        errors["user"] = "Only a superuser can issue a token for another staff member."
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = "The expiry must be in the future."
    if len(name) > 100:
        errors["name"] = "At most 100 characters."
    if errors:
        raise ValidationError(errors)


def api_token_issue(*, user, name: str = "", expires_at: dt.datetime | None = None, created_by=None):
    """A new token for `user`; returns (token, key). The key is not kept anywhere: show it now."""
    api_token_check(user=user, name=name, expires_at=expires_at, created_by=created_by)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=key[:PREFIX_LENGTH],
        digest=token_digest(key),
        expires_at=expires_at,
        created_by=created_by,
    )
    return token, key


def api_token_revoke(*, token: ApiToken, by=None) -> bool:
    """Revoke a token at once; False when it was already revoked."""
    return bool(
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now(), revoked_by=by)
    )


@transaction.atomic
def api_token_rotate(*, user, name: str = "", expires_at=None, created_by=None):
    """Revoke every active token of `user` and issue a new one; returns (token, key)."""
    api_token_check(user=user, name=name, expires_at=expires_at, created_by=created_by)
    ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now(), revoked_by=created_by)
    return api_token_issue(user=user, name=name, expires_at=expires_at, created_by=created_by)


def api_token_find(key: str) -> ApiToken | None:
    """The active token with this key, with its user, or None (unknown, revoked, expired, inactive user).

    One indexed lookup by digest; revocation and expiry are checked on the row (cheaper than in the query).
    """
    if not key or len(key) > MAX_KEY_LENGTH or not key.isascii():
        return None
    try:
        token = ApiToken.objects.select_related("user").get(digest=token_digest(key))
    except ApiToken.DoesNotExist:
        return None
    if token.state != "active" or not token.user.is_active:
        return None
    return token


def api_token_touch(token: ApiToken, *, every: dt.timedelta = dt.timedelta(minutes=5)) -> None:
    """Record use, at most once per `every`: one UPDATE now and then, not a write per request."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= every:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
