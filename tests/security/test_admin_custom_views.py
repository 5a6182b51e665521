"""Every custom admin view checks a model permission and the user's client scope (the weekly-report preview of
client B was readable by any staff user, and send-now sent it anywhere)."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client as HttpClient
from django.urls import reverse

from outreach.models import Membership
from tests import factories

pytestmark = pytest.mark.django_db

PERMS = ["view_reportdelivery", "add_reportdelivery", "view_campaign", "add_lead", "add_donotcontact", "view_lead"]


@pytest.fixture
def two_clients(campaign):
    a = campaign.client
    b = factories.ClientFactory()
    other_campaign = factories.CampaignFactory(client=b)
    return a, b, campaign, other_campaign


def staff(*, perms=(), member_of=None, role="admin"):
    user = factories.UserFactory(is_staff=True)
    user.save()
    user.user_permissions.set(Permission.objects.filter(codename__in=perms))
    if member_of is not None:
        Membership.objects.create(user=user, client=member_of, role=role)
    http = HttpClient()
    http.force_login(user)
    return http


def urls(a, b, campaign, other_campaign):
    return {
        "report preview": (
            reverse("admin:reports_preview", args=[b.pk]),
            reverse("admin:reports_preview", args=[a.pk]),
        ),
        "report send-now": (
            reverse("admin:reports_send_now", args=[b.pk]),
            reverse("admin:reports_send_now", args=[a.pk]),
        ),
        "campaign preview": (
            reverse("admin:campaigns_campaign_preview", args=[other_campaign.pk]),
            reverse("admin:campaigns_campaign_preview", args=[campaign.pk]),
        ),
    }


@pytest.mark.parametrize("view", ["report preview", "report send-now", "campaign preview"])
def test_staff_without_the_permission_or_outside_the_client_is_refused(two_clients, view):
    a, b, campaign, other_campaign = two_clients
    other_clients_url, own_url = urls(a, b, campaign, other_campaign)[view]
    no_perms = staff(member_of=a)
    assert no_perms.get(own_url).status_code == 403
    outsider = staff(perms=PERMS, member_of=a)
    assert outsider.get(other_clients_url).status_code == 403  # a member of A, asking for B
    assert outsider.get(own_url).status_code == 200


def test_send_now_needs_the_manage_role_and_a_viewer_cannot(two_clients):
    a, *_ = two_clients
    viewer = staff(perms=PERMS, member_of=a, role="viewer")
    assert viewer.get(reverse("admin:reports_send_now", args=[a.pk])).status_code == 403
    assert viewer.get(reverse("admin:reports_preview", args=[a.pk])).status_code == 200


def test_dnc_bulk_add_for_another_client_or_globally_is_refused(two_clients):
    a, b, *_ = two_clients
    operator = staff(perms=PERMS, member_of=a)
    url = reverse("admin:leads_donotcontact_bulk_add")
    assert operator.post(url, {"client": b.pk, "entries": "x@y.io"}).status_code == 403
    assert operator.post(url, {"client": "", "entries": "x@y.io"}).status_code == 403
    assert operator.post(url, {"client": a.pk, "entries": "x@y.io"}).status_code == 302


def test_sandbox_settings_need_the_add_permission(db, settings):
    settings.UNIPILE_SANDBOX = True
    assert staff().get(reverse("admin:sandbox_sandboxsettings_add")).status_code == 403
