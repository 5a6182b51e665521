"""The campaign page in a real browser: the sequence tree with its figures, and a node added from it.

Headless Debian Chromium through Playwright (.ci/run installs chromium); skipped with the reason when missing.
SCREENSHOT_DIR=... keeps a screenshot of the page."""

import os

from django.contrib.auth import get_user_model

from campaigns.sequence import sequence_apply_shape
from tests.browser import MARKS, admin_login
from tests.factories import AccountFactory, CampaignFactory, LeadFactory

pytestmark = MARKS


def test_the_campaign_page_shows_the_tree_and_adds_a_step(live_server, browser_page):
    get_user_model().objects.create_superuser("root", password="a-long-pass-123")
    campaign = CampaignFactory(name="Founders in Lyon")
    campaign.senders.add(AccountFactory(client=campaign.client))
    sequence_apply_shape(campaign=campaign, shape="branching")
    condition = campaign.steps.get(action="condition")
    for _ in range(3):
        LeadFactory(campaign=campaign, status="invited", step=condition, condition_until="2026-12-20T10:00:00Z")
    LeadFactory(campaign=campaign, status="pending", step=campaign.steps.get(action="invite"))
    violations = []
    page = browser_page
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    admin_login(page, live_server, "root", "a-long-pass-123")
    page.goto(f"{live_server.url}/admin/campaigns/campaign/{campaign.pk}/change/")
    tree = page.locator(".sequence-tree")
    assert tree.is_visible()
    assert tree.locator(".seq-node").count() == 8
    accepted = tree.locator(".seq-condition > .seq-card").first
    assert "3 here (3 waiting)" in accepted.inner_text()
    assert page.get_by_role("button", name="Activate").is_visible()
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "campaign-page.png"), full_page=True)
        page.locator(".campaign-panel").screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "sequence.png"))
    follow = tree.locator(".seq-follow > .seq-card").first
    follow.locator("select[name=kind]").select_option("like")
    follow.get_by_role("button", name="Add after").click()
    page.wait_for_load_state("networkidle")
    assert page.locator(".messagelist .success").is_visible()
    assert page.locator(".sequence-tree .seq-like").count() == 1
    assert violations == []
    assert campaign.steps.get(action="like").parent.action == "follow"
