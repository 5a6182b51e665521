"""The agency's brand, set once, with a client's own overrides: on the login page, the pages, the weekly email
and the reply digests, and as the emails' sender name. "by Outreach" appears only when the agency wants it."""

import pytest
from django.urls import reverse

from outreach.branding import brand_for
from outreach.models import Brand, Membership
from reports import emails
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def brand(settings):
    settings.REPORTS_FROM_EMAIL = "Outreach <reports@agency.example>"
    return Brand.objects.create(
        name="Northwind Growth",
        colour="#0f766e",
        sender_name="Northwind reports",
        logo_url="https://cdn.nw.example/l.png",
    )


def test_without_a_brand_the_product_name_is_kept(db):
    resolved = brand_for()
    assert (resolved.name, resolved.powered_by) == ("Outreach", False)


def test_the_weekly_email_carries_the_agencys_brand_and_no_by_outreach(brand):
    client = factories.ClientFactory(name="Acme")
    html, text = emails.render_weekly(emails.weekly_content(client, "2026-W46"), "ceo@acme.example")
    assert "Northwind Growth" in html and "#0f766e" in html and "https://cdn.nw.example/l.png" in html
    assert "Outreach" not in html and "Outreach" not in text
    brand.show_powered_by = True
    brand.save()
    html, text = emails.render_weekly(emails.weekly_content(client, "2026-W46"), "ceo@acme.example")
    assert "by Outreach" in html and "by Outreach" in text


def test_a_client_overrides_the_name_and_colour(brand):
    client = factories.ClientFactory(name="Acme", brand_name="Acme Labs Growth Desk", brand_colour="#7c3aed")
    html, _ = emails.render_weekly(emails.weekly_content(client, "2026-W46"), "ceo@acme.example")
    assert "Acme Labs Growth Desk" in html and "#7c3aed" in html and "Northwind Growth" not in html
    assert brand_for(client).logo_url == "https://cdn.nw.example/l.png"  # not overridden: the agency's


def test_emails_come_from_the_brands_sender_name(brand):
    assert brand_for().from_address() == "Northwind reports <reports@agency.example>"


def test_the_login_page_and_a_members_pages_show_the_brand(client, brand):
    page = client.get(reverse("login")).content.decode()
    assert "Northwind Growth" in page and "--brand:#0f766e" in page and "Outreach" not in page
    acme = factories.ClientFactory(name="Acme", brand_name="Acme Growth")
    member = factories.UserFactory(username="member")
    member.save()
    Membership.objects.create(user=member, client=acme, role="agent")
    client.force_login(member)
    response = client.get("/inbox/")
    assert response.status_code == 200, response
    inbox = response.content.decode()
    assert "Acme Growth" in inbox and "<title>Inbox · Acme Growth</title>" in inbox


def test_bad_brand_values_are_refused_in_the_admin(admin_client, brand):
    acme = factories.ClientFactory(name="Acme", slug="acme")
    url = reverse("admin:outreach_client_change", args=[acme.pk])
    data = {"name": "Acme", "slug": "acme", "timezone": "UTC", "brand_colour": "teal",
            "brand_logo_url": "http://insecure.example/logo.png", "max_leads_per_source": 2500,
            "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}  # fmt: skip
    page = admin_client.post(url, data).content.decode()
    assert "is not a colour like #0f766e" in page and "Use an https:// address" in page
    acme.refresh_from_db()
    assert acme.brand_colour == "" and acme.brand_logo_url == ""
    brand_page = admin_client.post(
        reverse("admin:outreach_brand_change", args=[brand.pk]),
        {"name": "Northwind", "colour": "#12345", "logo_url": "", "sender_name": ""},
    ).content.decode()
    assert "is not a colour like #0f766e" in brand_page
    brand.refresh_from_db()
    assert brand.colour == "#0f766e"


def test_only_superusers_change_the_brand(client, brand):
    staff = factories.UserFactory(username="staffer", is_staff=True)
    staff.save()
    client.force_login(staff)
    response = client.post(
        reverse("admin:outreach_brand_change", args=[brand.pk]),
        {"name": "Hijacked", "colour": "#000000", "logo_url": "", "sender_name": ""},
    )
    assert response.status_code in (302, 403)
    brand.refresh_from_db()
    assert brand.name == "Northwind Growth"
