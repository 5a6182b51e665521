"""/api/v1/clients and /api/v1/memberships."""

import zoneinfo

import django_filters
from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, viewsets

from outreach.models import Client, Membership, parse_email_list

from .filters import IdFilter
from .permissions import MANAGE, roles_of
from .serializers import IdField, PkField, StrictModelSerializer
from .views import ApiViewMixin


@extend_schema_field({"type": "string", "example": "Europe/Berlin"})
class TimezoneField(serializers.CharField):
    def to_internal_value(self, data):
        name = super().to_internal_value(data)
        if name not in zoneinfo.available_timezones():
            raise serializers.ValidationError(f"{name[:60]!r} is not an IANA timezone such as Europe/Berlin.")
        return name

    def to_representation(self, value):
        return str(value)


class EmailListField(serializers.ListField):
    child = serializers.EmailField()

    def to_representation(self, value):
        return parse_email_list(value or "")

    def to_internal_value(self, data):
        return "\n".join(address.lower() for address in super().to_internal_value(data))


class ClientSerializer(StrictModelSerializer):
    id = PkField()
    timezone = TimezoneField(max_length=64, required=False)
    report_recipients = EmailListField(required=False, max_length=50)
    role = serializers.SerializerMethodField(help_text="Your role in this client (admin for staff superusers).")

    class Meta:
        model = Client
        fields = [
            "id",
            "name",
            "slug",
            "timezone",
            "report_recipients",
            "weekly_reports_enabled",
            "reply_notifications_enabled",
            "created_at",
            "role",
        ]

    def get_role(self, obj) -> str:
        request = self.context["request"]
        if request.user.is_superuser:
            return Membership.Role.ADMIN
        return roles_of(request).get(obj.pk, "")


@extend_schema_view(
    list=extend_schema(summary="List the clients you belong to"),
    retrieve=extend_schema(summary="A client"),
    create=extend_schema(summary="Create a client (staff superusers)"),
    partial_update=extend_schema(summary="Change a client's settings (client admins)"),
    update=extend_schema(summary="Replace a client's settings (client admins)"),
    destroy=extend_schema(summary="Delete a client without campaigns or accounts (staff superusers)"),
)
class ClientViewSet(ApiViewMixin, viewsets.ModelViewSet):
    serializer_class = ClientSerializer
    client_field = "pk"
    levels = {"create": "superuser", "destroy": "superuser", "update": MANAGE, "partial_update": MANAGE}
    ordering = ["name"]
    ordering_fields = ["name", "created_at", "id"]
    search_fields = ["name", "slug"]

    def get_queryset(self):
        return self.scope(Client.objects.all())

    def client_id_of(self, obj):
        return obj.pk


class MembershipSerializer(StrictModelSerializer):
    id = PkField()
    client = IdField(queryset=Client.objects.none())
    user = serializers.SlugRelatedField(slug_field="username", queryset=get_user_model().objects.filter(is_active=True))

    class Meta:
        model = Membership
        fields = ["id", "client", "user", "role", "created_at"]
        read_only_fields = ["created_at"]
        validators = []  # the unique pair is checked below with a clearer message

    def get_fields(self):
        fields = super().get_fields()
        view = self.context.get("view")
        if view is not None:
            fields["client"].queryset = view.scope(Client.objects.all(), MANAGE, field="pk")
        if self.instance is not None:
            fields["client"].read_only = True
            fields["user"].read_only = True
        return fields

    def validate(self, attrs):
        if self.instance is None and Membership.objects.filter(client=attrs["client"], user=attrs["user"]).exists():
            raise serializers.ValidationError({"user": [f"{attrs['user']} is already a member of this client."]})
        return attrs


class MembershipFilter(django_filters.FilterSet):
    client = IdFilter(field_name="client_id")
    role = django_filters.ChoiceFilter(choices=Membership.Role.choices)

    class Meta:
        model = Membership
        fields = ["client", "role"]


@extend_schema_view(
    list=extend_schema(summary="Memberships of the clients you administer"),
    create=extend_schema(summary="Add a user to a client with a role"),
    partial_update=extend_schema(summary="Change a member's role"),
    update=extend_schema(summary="Change a member's role"),
    destroy=extend_schema(summary="Remove a member"),
)
class MembershipViewSet(ApiViewMixin, viewsets.ModelViewSet):
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilter
    write_level = MANAGE
    levels = {"list": MANAGE, "retrieve": MANAGE}
    ordering = ["-id"]
    ordering_fields = ["created_at", "id"]
    search_fields = ["user__username", "user__email"]

    def get_queryset(self):
        # Only a client's admins read and change its memberships; to anyone else they do not exist (404), so
        # an admin of client A who is a viewer in B lists A's members only.
        return self.scope(Membership.objects.select_related("user", "client"), level=MANAGE)
