"""Staff groups made by migrate; non-superuser staff see only their clients in the admin, as in the API."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from rest_framework.test import APIClient

from leads.models import DoNotContact
from outreach.api.tokens import api_token_issue
from outreach.groups import OPERATOR, READ_ONLY_OPERATOR
from outreach.models import Membership
from tests import factories

pytestmark = pytest.mark.django_db


def staff(name, group, *clients):
    user = get_user_model().objects.create_user(name, password="pw-for-tests-1", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    for client in clients:
        Membership.objects.create(user=user, client=client, role="admin")
    return user


@pytest.fixture
def two():
    a, b = factories.ClientFactory(name="Alpha"), factories.ClientFactory(name="Bravo")
    return {
        "a": a,
        "b": b,
        "campaign_a": factories.CampaignFactory(client=a, name="Alpha spring"),
        "campaign_b": factories.CampaignFactory(client=b, name="Bravo spring"),
    }


def test_migrate_made_both_groups_with_their_permissions():
    operator = set(Group.objects.get(name=OPERATOR).permissions.values_list("codename", flat=True))
    read_only = set(Group.objects.get(name=READ_ONLY_OPERATOR).permissions.values_list("codename", flat=True))
    assert {"add_campaign", "change_lead", "delete_donotcontact", "view_conversation", "add_apitoken"} <= operator
    assert "add_user" not in operator and "change_group" not in operator and "delete_apitoken" not in operator
    assert read_only and all(code.startswith("view_") for code in read_only)
    assert {"view_campaign", "view_lead", "view_linkedinaccount"} <= read_only


def test_an_operator_lists_and_opens_only_their_clients_rows(client, two):
    client.force_login(staff("op", OPERATOR, two["a"]))
    page = client.get(reverse("admin:campaigns_campaign_changelist")).content.decode()
    assert "Alpha spring" in page and "Bravo spring" not in page
    assert client.get(reverse("admin:campaigns_campaign_change", args=[two["campaign_b"].pk])).status_code == 302
    assert client.get(reverse("admin:campaigns_campaign_change", args=[two["campaign_a"].pk])).status_code == 200
    clients = client.get(reverse("admin:outreach_client_changelist")).content.decode()
    assert "Alpha" in clients and "Bravo" not in clients


def test_an_operator_cannot_pick_another_clients_campaign_in_a_form(client, two):
    client.force_login(staff("op", OPERATOR, two["a"]))
    found = client.get(
        "/admin/autocomplete/", {"app_label": "leads", "model_name": "lead", "field_name": "campaign", "term": "spring"}
    ).json()["results"]
    assert [row["text"] for row in found] == [str(two["campaign_a"])]
    response = client.post(reverse("admin:leads_lead_add"), {"campaign": two["campaign_b"].pk, "linkedin": "ann-lee"})
    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not two["campaign_b"].leads.exists()


def test_a_read_only_operator_sees_but_cannot_change(client, two):
    client.force_login(staff("ro", READ_ONLY_OPERATOR, two["a"]))
    assert client.get(reverse("admin:campaigns_campaign_changelist")).status_code == 200
    change = reverse("admin:campaigns_campaign_change", args=[two["campaign_a"].pk])
    page = client.get(change).content.decode()
    assert 'name="_save"' not in page
    client.post(change, {"name": "Renamed"})
    two["campaign_a"].refresh_from_db()
    assert two["campaign_a"].name == "Alpha spring"
    assert client.get(reverse("admin:campaigns_campaign_add")).status_code == 403


def test_memberships_of_a_client_are_only_its_admins_business(two):
    user = get_user_model().objects.create_user("mixed", password="pw-for-tests-1")
    Membership.objects.create(user=user, client=two["a"], role="admin")
    Membership.objects.create(user=user, client=two["b"], role="viewer")
    other = Membership.objects.create(user=factories.UserFactory(), client=two["b"], role="agent")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user)[1]}")
    listed = {row["client"] for row in api.get("/api/v1/memberships").json()["results"]}
    assert listed == {str(two["a"].pk)}
    assert api.get(f"/api/v1/memberships/{other.pk}").status_code == 404


def test_agency_wide_do_not_contact_entries_are_for_staff_only(client, two):
    DoNotContact.objects.create(client=None, kind="domain", value="agency-wide.example")
    DoNotContact.objects.create(client=two["a"], kind="domain", value="alpha-only.example")
    member = get_user_model().objects.create_user("viewer", password="pw-for-tests-1")
    Membership.objects.create(user=member, client=two["a"], role="viewer")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=member)[1]}")
    values = {row["value"] for row in api.get("/api/v1/do-not-contact").json()["results"]}
    assert values == {"alpha-only.example"}
    client.force_login(staff("op", OPERATOR, two["a"]))
    page = client.get(reverse("admin:leads_donotcontact_changelist")).content.decode()
    assert "agency-wide.example" in page and "alpha-only.example" in page
