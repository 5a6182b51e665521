"""/reports/: scoped, with a date range, charts drawn as SVG and every table exportable as CSV."""

import datetime as dt

import pytest

from leads.models import Event
from outreach.models import Membership
from tests import factories


@pytest.fixture
def report_world(db):
    client = factories.ClientFactory(name="Acme", timezone="Europe/Paris")
    other = factories.ClientFactory(name="Bravo")
    user = factories.UserFactory(username="viewer")
    user.save()
    Membership.objects.create(user=user, client=client, role="viewer")
    account = factories.AccountFactory(client=client, name="Sofia")
    campaign = factories.CampaignFactory(client=client, name="Founders")
    hidden = factories.CampaignFactory(client=other, name="Secret campaign")
    now = dt.datetime(2026, 11, 10, 10, 0, tzinfo=dt.UTC)
    for n in range(6):
        lead = factories.LeadFactory(campaign=campaign, company="=HYPERLINK(1)")
        Event.objects.create(
            lead=lead,
            account=account,
            type="invite_sent",
            occurred_at=now - dt.timedelta(days=n),
            data={"step": 1, "variant": "AB"[n % 2]},
        )
        if n % 2:
            Event.objects.create(
                lead=lead, account=account, type="invite_accepted", occurred_at=now - dt.timedelta(days=n, hours=-5)
            )
        if n == 1:
            Event.objects.create(lead=lead, account=account, type="reply_received", occurred_at=now)
    Event.objects.create(lead=factories.LeadFactory(campaign=hidden), type="invite_sent", occurred_at=now)
    return {"client": client, "other": other, "user": user, "campaign": campaign, "hidden": hidden}


def test_reports_page_shows_the_clients_numbers(client, report_world):
    client.force_login(report_world["user"])
    page = client.get("/reports/?from=2026-11-01&to=2026-11-15").content.decode()
    assert "Founders" in page and "Secret campaign" not in page and "Bravo" not in page
    assert "<svg" in page and "Per day" in page and "Funnel" in page
    assert "50.0%" in page  # 3 of 6 invited leads accepted


def test_other_clients_report_is_404(client, report_world):
    client.force_login(report_world["user"])
    assert client.get(f"/reports/?client={report_world['other'].pk}").status_code == 404
    assert client.get(f"/reports/?campaign={report_world['hidden'].pk}").status_code == 404


def test_bad_dates_fall_back_with_a_message(client, report_world):
    client.force_login(report_world["user"])
    page = client.get("/reports/?from=2026-13-01&to=x").content.decode()
    assert "Dates are written YYYY-MM-DD" in page
    page = client.get("/reports/?from=2026-11-15&to=2026-11-01").content.decode()
    assert "start date is after the end date" in page


@pytest.mark.parametrize("kind", ["daily", "campaigns", "steps", "accounts", "funnel"])
def test_every_table_exports_csv(client, report_world, kind):
    client.force_login(report_world["user"])
    response = client.get(f"/reports/?from=2026-11-01&to=2026-11-15&export={kind}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    assert len(text.splitlines()) >= 2


def test_empty_range_has_an_empty_state(client, report_world):
    client.force_login(report_world["user"])
    page = client.get("/reports/?from=2020-01-01&to=2020-01-31").content.decode()
    assert "Nothing happened in this range" in page


def test_reports_need_a_login(client, report_world):
    assert client.get("/reports/").status_code == 302
