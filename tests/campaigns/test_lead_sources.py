"""Leads from LinkedIn searches, Sales Navigator searches and lists, and posts: read inside the account's
read budget, imported through the import's checks, nobody twice."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.models import LeadSource, LeadSourcePerson
from campaigns.sources import SourceRefused, lead_source_create, lead_source_rerun, lead_source_run, parse_source_url
from integrations.models import LinkedInAccount, RateUsage
from integrations.unipile import BadRequest, PeoplePage, Person, RateLimited
from leads.models import Lead
from leads.services import dnc_create
from outreach.models import Membership
from tests.factories import AccountFactory, CampaignFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://www.linkedin.com/search/results/people/?keywords=cto&origin=SWITCH", "search"),
        ("https://www.linkedin.com/sales/search/people?query=(keywords%3Acfo)", "sales_navigator_search"),
        (
            "https://www.linkedin.com/sales/lists/people/7012345678901234567?sortCriteria=CREATED",
            "sales_navigator_list",
        ),
        ("https://www.linkedin.com/posts/ann-lee_growth-activity-7123456789012345678-AbCd", "post_reactions"),
        ("https://www.linkedin.com/feed/update/urn:li:activity:7123456789012345678/", "post_reactions"),
    ],
)
def test_linkedin_urls_are_recognised(url, kind):
    assert parse_source_url(url)[0] == kind


@pytest.mark.parametrize(
    "url",
    ["https://example.com/search/results/people/", "https://www.linkedin.com/in/ann-lee/", "not a url",
     "https://www.linkedin.com/company/acme/"],
)  # fmt: skip
def test_other_urls_are_refused_naming_what_was_expected(url):
    with pytest.raises(SourceRefused, match=r"people search .* Sales Navigator .* post"):
        parse_source_url(url)


def test_tracking_parameters_do_not_make_a_new_source():
    a = parse_source_url("https://www.linkedin.com/search/results/people/?keywords=cto&origin=GLOBAL&sid=x")[1]
    b = parse_source_url("https://www.linkedin.com/search/results/people/?sid=y&keywords=cto&page=3")[1]
    assert a == b


@pytest.fixture
def live_sandbox(sandbox, sandbox_client, settings):
    settings.LEAD_SOURCE_PAGE_SECONDS = (0, 0)
    return sandbox_client


def run_all(source, provider, now=None):
    now = now or timezone.now()
    outcomes = []
    for _ in range(30):
        source.refresh_from_db()
        if source.status != "running":
            break
        outcomes.append(lead_source_run(source_id=source.pk, provider=provider, now=now))
        now += dt.timedelta(minutes=5)
    source.refresh_from_db()
    return outcomes


def test_a_search_is_imported_through_the_sandbox_nobody_twice(live_sandbox, client_org):
    account = AccountFactory(client=client_org, unipile_account_id="acc-sandbox", daily_read_limit=1000)
    campaign = CampaignFactory(client=client_org)
    url = "https://www.linkedin.com/search/results/people/?keywords=founder&count=130"
    source = lead_source_create(campaign=campaign, account=account, url=url, max_leads=500)
    outcomes = run_all(source, live_sandbox)
    assert source.status == "finished" and source.stop_reason == "end of the results", outcomes
    assert (source.found, source.pages_read) == (130, 3)
    assert source.skipped == {"first_degree": 13} and source.imported == 117
    lead = Lead.objects.filter(campaign=campaign).order_by("pk").first()
    assert lead.source == source and lead.provider_id.startswith("ACoAA") and lead.public_identifier
    assert lead.custom_fields["headline"] and lead.custom_fields["network_distance"] == "SECOND_DEGREE"
    assert RateUsage.objects.get(account=account).reads == 130
    assert LeadSourcePerson.objects.filter(source=source).count() == 130

    lead_source_rerun(source=source)
    run_all(source, live_sandbox)
    assert source.runs == 2 and source.found == 130 and Lead.objects.filter(campaign=campaign).count() == 117


def test_post_engagers_and_the_campaigns_checks(live_sandbox, client_org):
    account = AccountFactory(client=client_org, unipile_account_id="acc-sandbox", daily_read_limit=1000)
    campaign = CampaignFactory(client=client_org)
    other = CampaignFactory(client=client_org, status="active")
    url = "https://www.linkedin.com/feed/update/urn:li:activity:7123456789012345678/"
    source = lead_source_create(campaign=campaign, account=account, url=url, engagers="comments", max_leads=20,
                                first_degree="import")  # fmt: skip
    run_all(source, live_sandbox)
    assert source.kind == "post_comments" and source.status == "finished" and "maximum of 20" in source.stop_reason
    assert source.imported == 20

    # Another campaign of the client reads the same post: who is in the first one, or on the do-not-contact list,
    # is skipped with the reason.
    first = Lead.objects.filter(campaign=campaign, custom_fields__network_distance="SECOND_DEGREE").first()
    dnc_create(client=client_org, value=first.provider_id)
    again = lead_source_create(campaign=other, account=account, url=url, engagers="comments", max_leads=30)
    run_all(again, live_sandbox)
    assert again.skipped.get("do_not_contact") == 1 and again.skipped.get("other_campaign", 0) > 10, again.skipped
    assert again.people.get(provider_id=first.provider_id).outcome == "do_not_contact"
    reasons = set(again.people.filter(outcome="other_campaign").values_list("reason", flat=True))
    assert reasons and all(reason.startswith("Already") for reason in reasons)


def test_the_read_budget_spreads_a_source_over_days(client_org):
    account = AccountFactory(client=client_org, daily_read_limit=60)
    campaign = CampaignFactory(client=client_org)
    calls = []

    class Provider:
        def search_people(self, *, account_id, api, url, cursor="", limit=50):
            calls.append(limit)
            start = int(cursor or 0)
            people = [_person(start + n) for n in range(limit)]
            return PeoplePage(people=people, cursor=str(start + limit))

    source = lead_source_create(campaign=campaign, account=account, url=_search(), max_leads=500)
    now = timezone.now()
    lead_source_run(source_id=source.pk, provider=Provider(), now=now)
    source.refresh_from_db()
    lead_source_run(source_id=source.pk, provider=Provider(), now=source.next_run_at)
    source.refresh_from_db()
    message = lead_source_run(source_id=source.pk, provider=Provider(), now=source.next_run_at)
    source.refresh_from_db()
    assert calls == [50, 10] and source.imported == 60 and "read budget" in message and source.status == "running"
    assert source.next_run_at.date() > now.date() or source.next_run_at - now > dt.timedelta(hours=6)
    assert RateUsage.objects.get(account=account).reads == 60


def _person(n: int, distance="SECOND_DEGREE") -> Person:
    return Person(provider_id=f"ACoAAPerson{n:06d}", public_identifier=f"person-{n}", first_name="P", last_name=str(n),
                  headline="CTO at Acme", location="Paris", network_distance=distance, company="Acme", title="CTO")  # fmt: skip


def _search(words="cto") -> str:
    return f"https://www.linkedin.com/search/results/people/?keywords={words}"


def test_a_429_pauses_the_source_and_cools_the_account_without_pausing_it(client_org):
    account = AccountFactory(client=client_org)
    campaign = CampaignFactory(client=client_org)

    class Limited:
        def search_people(self, **kwargs):
            raise RateLimited("slow down", status=429, type="too_many_requests")

    source = lead_source_create(campaign=campaign, account=account, url=_search(), max_leads=100)
    lead_source_run(source_id=source.pk, provider=Limited())
    source.refresh_from_db()
    account.refresh_from_db()
    assert source.status == "paused" and "429" in source.stop_reason and not account.paused
    assert RateUsage.objects.get(account=account).reads == 0  # refunded
    # A 429 is about the account: it cools down, so the engine sends nothing from it meanwhile either.
    assert account.is_cooling_down(timezone.now()) and account.rate_limit_strikes == 1
    assert "cools down until" in source.stop_reason


def test_a_source_waits_for_its_account_to_cool_down(client_org):
    account = AccountFactory(client=client_org)
    campaign = CampaignFactory(client=client_org)
    source = lead_source_create(campaign=campaign, account=account, url=_search(), max_leads=100)
    now = timezone.now()
    LinkedInAccount.objects.filter(pk=account.pk).update(cooldown_until=now + dt.timedelta(minutes=3))

    class Unreachable:
        def search_people(self, **kwargs):
            raise AssertionError("read during a cool-down")

    said = lead_source_run(source_id=source.pk, now=now, provider=Unreachable())
    source.refresh_from_db()
    assert "cooling down" in said and source.status == "running"
    assert source.next_run_at == now + dt.timedelta(minutes=3)
    assert not RateUsage.objects.filter(account=account, reads__gt=0).exists()


def test_a_cursor_refused_midway_stops_the_source_and_keeps_what_came_in(client_org):
    account = AccountFactory(client=client_org)
    campaign = CampaignFactory(client=client_org)

    class Refusing:
        def search_people(self, *, cursor="", limit=50, **kwargs):
            if cursor:
                raise BadRequest("Invalid cursor.", status=400, type="invalid_parameters")
            return PeoplePage(people=[_person(n) for n in range(limit)], cursor="next")

    source = lead_source_create(campaign=campaign, account=account, url=_search(), max_leads=400)
    run_all(source, Refusing())
    assert source.status == "failed" and "Invalid cursor" in source.stop_reason and source.imported == 50
    assert Lead.objects.filter(campaign=campaign).count() == 50


def test_a_search_with_no_results(live_sandbox, client_org):
    account = AccountFactory(client=client_org, unipile_account_id="acc-sandbox")
    campaign = CampaignFactory(client=client_org)
    source = lead_source_create(campaign=campaign, account=account, url=_search("noresults"), max_leads=10)
    run_all(source, live_sandbox)
    assert source.status == "finished" and source.stop_reason == "no results" and source.found == 0


# --- the ways in: API and admin, same refusals ----------------------------------------------------------------


def _api(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"url": "https://www.linkedin.com/in/ann-lee/"}, "url", "not a list of people"),
        ({"url": "https://www.linkedin.com/sales/search/people?query=x"}, "account", "no Sales Navigator"),
        ({"url": _search(), "max_leads": 99999}, "max_leads", "Between 1 and 2500"),
        ({"url": _search("taken")}, "url", "already reads this"),
    ],
)
def test_bad_sources_are_refused_alike_by_the_api_and_the_admin(admin_client, client_org, body, field, words):
    account = AccountFactory(client=client_org, kind="classic")
    campaign = CampaignFactory(client=client_org)
    lead_source_create(campaign=campaign, account=account, url=_search("taken"), max_leads=10)
    before = LeadSource.objects.count()
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    answer = _api(root).post(
        f"/api/v1/campaigns/{campaign.pk}/sources", {"account": str(account.pk), **body}, format="json"
    )
    assert answer.status_code == 400 and words in str(answer.json()["details"][field]), answer.json()
    form = {"campaign": campaign.pk, "account": account.pk, "url": body["url"], "engagers": "reactions",
            "max_leads": body.get("max_leads", 100), "first_degree": "skip"}  # fmt: skip
    page = admin_client.post(reverse("admin:campaigns_leadsource_add"), form)
    assert page.status_code == 200 and words in page.content.decode()
    assert LeadSource.objects.count() == before


def test_the_api_adds_and_steers_a_source(client_org):
    agent, viewer = UserFactory(username="agent"), UserFactory(username="viewer")
    Membership.objects.create(user=agent, client=client_org, role="agent")
    Membership.objects.create(user=viewer, client=client_org, role="viewer")
    account = AccountFactory(client=client_org)
    campaign = CampaignFactory(client=client_org)
    body = {"url": _search(), "account": str(account.pk), "max_leads": 50}
    assert _api(viewer).post(f"/api/v1/campaigns/{campaign.pk}/sources", body, format="json").status_code == 403
    created = _api(agent).post(f"/api/v1/campaigns/{campaign.pk}/sources", body, format="json")
    assert created.status_code == 201 and created.json()["status"] == "running"
    source_id = created.json()["id"]
    assert _api(viewer).get(f"/api/v1/campaigns/{campaign.pk}/sources").json()[0]["id"] == source_id
    assert _api(agent).post(f"/api/v1/lead-sources/{source_id}/pause").json()["status"] == "paused"
    assert _api(agent).post(f"/api/v1/lead-sources/{source_id}/pause").status_code == 409
    assert _api(agent).post(f"/api/v1/lead-sources/{source_id}/resume").json()["status"] == "running"
    assert _api(agent).post(f"/api/v1/lead-sources/{source_id}/cancel").json()["status"] == "cancelled"
    assert _api(agent).post(f"/api/v1/lead-sources/{source_id}/rerun").json()["runs"] == 2
    assert _api(viewer).post(f"/api/v1/lead-sources/{source_id}/pause").status_code == 403


def test_the_admin_adds_a_source_from_the_campaign_and_shows_its_progress(admin_client, client_org):
    account = AccountFactory(client=client_org)
    campaign = CampaignFactory(client=client_org)
    campaign.senders.add(account)
    change = admin_client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk])).content.decode()
    assert "Add leads from LinkedIn" in change
    form = admin_client.get(reverse("admin:campaigns_leadsource_add") + f"?campaign={campaign.pk}")
    assert form.status_code == 200
    page = admin_client.post(
        reverse("admin:campaigns_leadsource_add"),
        {"campaign": campaign.pk, "account": account.pk, "url": _search(), "engagers": "reactions",
         "max_leads": 100, "first_degree": "skip"},
    )  # fmt: skip
    source = LeadSource.objects.get()
    assert page.status_code == 302 and source.created_by is not None
    shown = admin_client.get(reverse("admin:campaigns_leadsource_change", args=[source.pk])).content.decode()
    assert "0 / 100 imported" in shown
    progress = admin_client.get(reverse("admin:campaigns_leadsource_progress", args=[source.pk])).json()
    assert progress["running"] is True and progress["max"] == 100


def test_the_sources_page_pauses_resumes_cancels_and_reruns(admin_client, client_org):
    account = AccountFactory(client=client_org)
    source = lead_source_create(
        campaign=CampaignFactory(client=client_org), account=account, url=_search(), max_leads=5
    )
    page = admin_client.get(reverse("admin:campaigns_leadsource_change", args=[source.pk])).content.decode()
    assert ">Pause<" in page and ">Cancel<" in page and ">Resume<" not in page
    for operation, status in (
        ("pause", "paused"),
        ("resume", "running"),
        ("cancel", "cancelled"),
        ("rerun", "running"),
    ):
        answer = admin_client.post(reverse("admin:campaigns_leadsource_operate", args=[source.pk, operation]))
        source.refresh_from_db()
        assert answer.status_code == 302 and source.status == status, operation
    refused = admin_client.post(reverse("admin:campaigns_leadsource_operate", args=[source.pk, "resume"]), follow=True)
    assert "not paused" in refused.content.decode()
    assert admin_client.get(reverse("admin:campaigns_leadsource_operate", args=[source.pk, "pause"])).status_code == 403
