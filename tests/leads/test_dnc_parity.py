"""Parity: a do-not-contact entry added any way in, in any case or URL form, is stored normalized, stops the
matching lead at once, and the planner never queues it; bad input gets the same refusal and writes nothing."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.engine.planner import plan_due
from campaigns.models import OutboundAction
from leads.models import DoNotContact, Lead
from outreach.api.tokens import api_token_issue
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(campaign):
    campaign.status = "active"
    campaign.save()
    due = timezone.now() - dt.timedelta(minutes=1)
    return {
        "email": factories.LeadFactory(campaign=campaign, email="ann@acme.io", next_action_at=due),
        "domain": factories.LeadFactory(campaign=campaign, email="bob@bigcorp.com", next_action_at=due),
        "profile": factories.LeadFactory(campaign=campaign, public_identifier="carla-díaz", next_action_at=due),
    }


@pytest.fixture
def staff(admin_user):
    return admin_user


def via_api(client_org, staff, value):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=staff)[1]}")
    response = api.post("/api/v1/do-not-contact", {"client": str(client_org.pk), "value": value}, format="json")
    return response.status_code, response.json()


def via_api_bulk(client_org, staff, value):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=staff)[1]}")
    response = api.post("/api/v1/do-not-contact/bulk", {"client": str(client_org.pk), "values": [value]}, format="json")
    return response.status_code, response.json()


def via_admin_add(client_org, admin_client, value):
    response = admin_client.post(
        reverse("admin:leads_donotcontact_add"), {"client": client_org.pk, "kind": "", "value": value, "reason": ""}
    )
    return response.status_code, response.content.decode()


def via_admin_add_with_kind(client_org, admin_client, value):
    kind = "email" if "@" in value and not value.startswith("@") else ("domain" if value.startswith("@") else "")
    response = admin_client.post(
        reverse("admin:leads_donotcontact_add"), {"client": client_org.pk, "kind": kind, "value": value, "reason": ""}
    )
    return response.status_code, response.content.decode()


def via_admin_bulk(client_org, admin_client, value):
    response = admin_client.post(
        reverse("admin:leads_donotcontact_bulk_add"), {"client": client_org.pk, "entries": value, "reason": ""}
    )
    return response.status_code, response.content.decode()


WAYS = ["api", "api_bulk", "admin_add", "admin_add_with_kind", "admin_bulk"]


def add(way, client_org, staff, admin_client, value):
    if way.startswith("api"):
        return {"api": via_api, "api_bulk": via_api_bulk}[way](client_org, staff, value)
    return {"admin_add": via_admin_add, "admin_add_with_kind": via_admin_add_with_kind, "admin_bulk": via_admin_bulk}[
        way
    ](client_org, admin_client, value)


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize(
    ("typed", "stored", "who"),
    [
        ("Ann@Acme.IO", ("email", "ann@acme.io"), "email"),
        ("@BigCorp.com", ("domain", "bigcorp.com"), "domain"),
        ("https://www.linkedin.com/in/Carla-D%C3%ADaz/", ("public_identifier", "carla-díaz"), "profile"),
    ],
)
def test_an_entry_added_any_way_is_normalized_and_stops_the_lead_at_once(
    way, typed, stored, who, people, client_org, staff, admin_client
):
    status, _body = add(way, client_org, staff, admin_client, typed)
    assert status in (201, 302), _body
    assert list(DoNotContact.objects.values_list("kind", "value")) == [stored]
    stopped = Lead.objects.get(pk=people[who].pk)
    assert stopped.status == "do_not_contact"
    others = [lead for name, lead in people.items() if name != who]
    assert all(Lead.objects.get(pk=lead.pk).status == "pending" for lead in others)
    plan_due()
    assert not OutboundAction.objects.filter(lead=stopped).exists()


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("typed", ["ann@", "https://www.linkedin.com/company/acme/", "@not a domain"])
def test_bad_input_gets_the_same_refusal_every_way_and_writes_nothing(
    way, typed, people, client_org, staff, admin_client
):
    status, body = add(way, client_org, staff, admin_client, typed)
    assert status in (400, 200)  # the API's 400, the admin form shown again with its error
    text = str(body)
    assert repr(typed)[1:-1] in text or typed in text  # the refusal names the value
    assert not DoNotContact.objects.exists()
    assert set(Lead.objects.values_list("status", flat=True)) == {"pending"}


def test_a_stored_entry_keeps_its_value_in_the_admin(people, client_org, admin_client, staff):
    via_api(client_org, staff, "Ann@Acme.IO")
    entry = DoNotContact.objects.get()
    page = admin_client.get(reverse("admin:leads_donotcontact_change", args=[entry.pk]))
    assert page.status_code == 200 and 'name="value"' not in page.content.decode()
    admin_client.post(reverse("admin:leads_donotcontact_change", args=[entry.pk]), {"reason": "asked by email"})
    entry.refresh_from_db()
    assert (entry.value, entry.reason) == ("ann@acme.io", "asked by email")
