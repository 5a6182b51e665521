"""The two staff groups every installation has, created (or completed) by each `migrate`.

- "Operator": runs the agency's work in the admin: every permission on clients, members, campaigns,
  leads, accounts, do-not-contact entries, the inbox and reports; may issue API tokens (for members or
  themselves: only a superuser mints one for other staff); sees users (to pick a member), never
  changes them. Not groups or the sandbox provider.
- "Read-only operator": sees what an operator sees and changes nothing.

Permissions an administrator adds to a group by hand are kept; missing ones are added back.
An operator still sees only the clients they are a member of, unless they are a superuser.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

OPERATOR, READ_ONLY_OPERATOR = "Operator", "Read-only operator"
PRODUCT_APPS = ("outreach", "integrations", "campaigns", "leads", "inbox", "reports")
NOT_FOR_OPERATORS = {
    "outreach.delete_apitoken",
    "outreach.add_heartbeat",
    "outreach.change_heartbeat",
    "outreach.delete_heartbeat",
}


def product_permissions(apps=global_apps):
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(content_type__app_label__in=PRODUCT_APPS).select_related("content_type")


def sync_staff_groups(sender=None, apps=global_apps, verbosity=1, **kwargs):
    for label in PRODUCT_APPS:
        create_permissions(global_apps.get_app_config(label), verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    every = list(product_permissions(apps))
    operator = [p for p in every if f"{p.content_type.app_label}.{p.codename}" not in NOT_FOR_OPERATORS]
    operator += list(
        apps.get_model("auth", "Permission").objects.filter(content_type__app_label="auth", codename="view_user")
    )
    read_only = [p for p in every if p.codename.startswith("view_")]
    for name, permissions in ((OPERATOR, operator), (READ_ONLY_OPERATOR, read_only)):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*permissions)
