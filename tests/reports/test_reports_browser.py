"""The reports page in a real browser, read from the rollups: the funnel, the chart and the steps table show the
events recorded through the models. Headless Debian Chromium through Playwright; skipped with the reason when
missing. SCREENSHOT_DIR=... keeps a screenshot of the page."""

import datetime as dt
import os

from django.contrib.auth import get_user_model
from django.utils import timezone

from leads.models import Event
from tests.browser import MARKS, admin_login
from tests.factories import AccountFactory, CampaignFactory, LeadFactory, StepFactory

pytestmark = MARKS


def test_the_reports_page_shows_the_rollups(live_server, browser_page):
    get_user_model().objects.create_superuser("root", password="a-long-pass-123")
    campaign = CampaignFactory(name="Founders in Lyon")
    account = AccountFactory(client=campaign.client, name="Claire")
    StepFactory(campaign=campaign, position=1, action="invite", label="Warm invitation", parent=None)
    day = timezone.now() - dt.timedelta(days=2)
    for n in range(6):
        lead = LeadFactory(campaign=campaign)
        at = day + dt.timedelta(minutes=n)
        Event.objects.create(lead=lead, account=account, type="invite_sent", occurred_at=at, data={"step": 1})
        if n < 4:
            Event.objects.create(lead=lead, account=account, type="invite_accepted", occurred_at=at)
        if n < 2:
            Event.objects.create(lead=lead, type="reply_received", occurred_at=at, external_id=f"r{n}")
    page = browser_page
    admin_login(page, live_server, "root", "a-long-pass-123")
    page.goto(f"{live_server.url}/reports/?client={campaign.client.pk}&preset=30")
    text = page.locator("body").inner_text()
    assert "Founders in Lyon" in text and "1. Warm invitation" in text and "66.7%" in text  # 4 of 6 accepted
    assert "p90 0.0 h" in text  # a zero is a figure, not a blank
    assert page.locator("svg").count() >= 2  # the chart and the funnel
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "reports-page.png"), full_page=True)
