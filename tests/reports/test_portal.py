"""The client portal: a member's home with each campaign's progress, the leads behind every number (and their
CSV), preset report ranges; scoped to the member's clients, read-only for viewers."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from outreach.models import Membership
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal(client):
    acme = factories.ClientFactory(name="Acme", timezone="Europe/Paris")
    other = factories.ClientFactory(name="Other")
    campaign = factories.CampaignFactory(client=acme, name="Founders", status="active")
    now = timezone.now()
    for status, n in (("pending", 3), ("invited", 2), ("connected", 1), ("replied", 2), ("error", 1)):
        for i in range(n):
            factories.LeadFactory(
                campaign=campaign, status=status, first_name=f"{status}{i}",
                invited_at=now if status != "pending" else None,
                connected_at=now if status in ("connected", "replied") else None,
                replied_at=now if status == "replied" else None,
            )  # fmt: skip
    factories.LeadFactory(campaign=campaign, status="replied", first_name="=cmd", invited_at=now, connected_at=now,
                          replied_at=now - dt.timedelta(days=30))  # fmt: skip
    secret = factories.CampaignFactory(client=other, name="Secret")
    viewer = factories.UserFactory(username="viewer")
    viewer.save()
    Membership.objects.create(user=viewer, client=acme, role="viewer")
    client.force_login(viewer)
    return {"acme": acme, "campaign": campaign, "secret": secret}


def test_a_member_lands_on_the_clients_home_with_each_campaigns_progress(client, portal):
    page = client.get(reverse("portal:home")).content.decode()
    assert "Acme" in page and "Founders" in page and "Secret" not in page
    campaign = portal["campaign"]
    # 10 leads: 3 not started, 3 in progress, 3 replied (2 this week), 1 stopped; 7 invited, 4 accepted.
    for state, n in (("leads", 10), ("pending", 3), ("in_progress", 3), ("replied", 3), ("stopped", 1)):
        assert f'?campaign={campaign.pk}&state={state}"><div class="n">{n}</div>' in page, state
    assert 'state=replied_this_week"><div class="n">2</div>' in page
    assert "57 %" in page and "43 %" in page  # acceptance 4/7, replies 3/7


def test_every_number_opens_the_leads_behind_it(client, portal):
    campaign = portal["campaign"]
    url = reverse("portal:leads")
    page = client.get(url, {"campaign": campaign.pk, "state": "replied_this_week"}).content.decode()
    assert "Replied this week" in page and "replied0" in page and "=cmd" not in page
    csv = b"".join(client.get(url, {"campaign": campaign.pk, "state": "replied", "export": "csv"}).streaming_content)
    assert b"'=cmd" in csv  # a cell that would be a formula is neutralized
    assert client.get(url, {"campaign": portal["secret"].pk}).status_code == 404  # another client's campaign
    assert client.get(url, {"campaign": "x"}).status_code == 404


def test_reports_have_preset_ranges(client, portal):
    url = reverse("reports:index")
    page = client.get(url, {"client": portal["acme"].pk, "preset": "last_week"}).content.decode()
    assert "preset=this_week" in page and "preset=90" in page
    assert "is not a range" in client.get(url, {"client": portal["acme"].pk, "preset": "decade"}).content.decode()


def test_the_portal_needs_a_login(portal):
    from django.test import Client

    anonymous = Client()
    assert anonymous.get(reverse("portal:home")).status_code == 302
    assert anonymous.get(reverse("portal:leads"), {"campaign": portal["campaign"].pk}).status_code == 302


def test_this_week_starts_on_the_clients_monday(client, portal):
    import time_machine

    with time_machine.travel(dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)):
        page = client.get(reverse("portal:home")).content.decode()
    assert "starts on Monday 30 Nov in Europe/Paris" in page
