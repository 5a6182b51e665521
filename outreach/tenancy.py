"""Which clients a user may see. Every page, API view and export scopes through here."""

from django.db.models import QuerySet

from .models import Client, Membership

READ_ROLES = frozenset({Membership.Role.ADMIN, Membership.Role.AGENT, Membership.Role.VIEWER})
WORK_ROLES = frozenset({Membership.Role.ADMIN, Membership.Role.AGENT})
MANAGE_ROLES = frozenset({Membership.Role.ADMIN})
# What a level of access means in roles: viewers read, agents also work, admins also manage.
READ, WORK, MANAGE = "read", "work", "manage"
ROLES_FOR = {READ: READ_ROLES, WORK: WORK_ROLES, MANAGE: MANAGE_ROLES}


def clients_for(user, *, roles=READ_ROLES) -> QuerySet[Client]:
    if not user.is_authenticated or not user.is_active:
        return Client.objects.none()
    if user.is_superuser:
        return Client.objects.all()
    return Client.objects.filter(memberships__user=user, memberships__role__in=roles).distinct()


def client_ids_for(user, *, roles=READ_ROLES) -> QuerySet:
    return clients_for(user, roles=roles).values("pk")


def may_client(user, client_id: int, level: str = READ) -> bool:
    """Whether the user holds `level` in this client (staff superusers hold every level everywhere)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return Membership.objects.filter(user=user, client_id=client_id, role__in=ROLES_FOR[level]).exists()
