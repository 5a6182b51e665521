"""Which clients a user may see. Every page, API view and export scopes through here."""

from django.db.models import QuerySet

from .models import Client, Membership

READ_ROLES = {Membership.Role.ADMIN, Membership.Role.AGENT, Membership.Role.VIEWER}
WORK_ROLES = {Membership.Role.ADMIN, Membership.Role.AGENT}


def clients_for(user, *, roles=READ_ROLES) -> QuerySet[Client]:
    if not user.is_authenticated or not user.is_active:
        return Client.objects.none()
    if user.is_superuser:
        return Client.objects.all()
    return Client.objects.filter(memberships__user=user, memberships__role__in=roles).distinct()


def client_ids_for(user, *, roles=READ_ROLES) -> QuerySet:
    return clients_for(user, roles=roles).values("pk")
