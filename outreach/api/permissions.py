"""Roles from Membership. Querysets are scoped to the user's clients (another client's row is a 404);
within a visible client the role decides what may be done (403 when it does not suffice).

viewer reads; agent also works leads, inbox and campaigns; admin also manages clients, accounts,
memberships and limits. Staff superusers act on every client.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from outreach.models import Membership
from outreach.tenancy import MANAGE, READ, ROLES_FOR, WORK

__all__ = ["MANAGE", "READ", "ROLES_FOR", "WORK", "ClientRole", "client_ids", "may"]


def roles_of(request) -> dict[int, str]:
    """client id -> role of the request's user, loaded once per request."""
    cached = getattr(request, "_outreach_roles", None)
    if cached is None:
        user = request.user
        cached = (
            dict(Membership.objects.filter(user=user).values_list("client_id", "role")) if user.is_authenticated else {}
        )
        request._outreach_roles = cached
    return cached


def may(request, client_id, level: str) -> bool:
    user = request.user
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    return roles_of(request).get(client_id) in ROLES_FOR[level]


def client_ids(request, level: str = READ) -> list[int]:
    user = request.user
    if user.is_superuser:
        raise RuntimeError("Superusers are not scoped; check is_superuser first.")
    return [client_id for client_id, role in roles_of(request).items() if role in ROLES_FOR[level]]


def level_for(view, request) -> str:
    """The level an action needs: the view's `levels` by action name, else read for safe methods, else work."""
    levels = getattr(view, "levels", {})
    action = getattr(view, "action", None)
    if action in levels:
        return levels[action]
    return READ if request.method in SAFE_METHODS else getattr(view, "write_level", WORK)


class ClientRole(BasePermission):
    """Authenticated, and on objects: the needed role in the object's client."""

    message = "Your role in this client does not allow this."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        level = level_for(view, request)
        if level == "superuser":
            # On one object the lookup answers first: another client's object stays a 404.
            return user.is_superuser or getattr(view, "detail", False)
        if user.is_superuser or getattr(view, "detail", False):
            return True
        # Lists and creations: the user must hold the level somewhere; the serializer checks the client.
        return any(role in ROLES_FOR[level] for role in roles_of(request).values()) or level == READ

    def has_object_permission(self, request, view, obj):
        level = level_for(view, request)
        if level == "superuser":
            return request.user.is_superuser
        return may(request, view.client_id_of(obj), level)
