"""A staff member in a real browser: log in, open the inbox, open a conversation, send a reply.

Runs headless in Debian's Chromium through Playwright; .ci/run installs chromium. Skipped with the
reason when either is missing.
"""

import os

from django.contrib.auth import get_user_model

from campaigns.models import OutboundAction
from inbox.ingest import ingest
from inbox.models import Message
from outreach.models import Membership
from tests.browser import MARKS, admin_login

from .conftest import incoming

pytestmark = MARKS


def test_a_member_logs_in_at_the_products_door_opens_a_conversation_and_replies(live_server, inbox_world, browser_page):
    """An agent of the client, not staff: the admin would refuse them; /login/ is their door."""
    w = inbox_world
    user = get_user_model().objects.create_user("staffer", password="a-long-pass-123", is_staff=False)
    Membership.objects.create(user=user, client=w["a"], role="agent")
    ingest(incoming(w["acc_a"], message_id="b1", text="Could we talk on Thursday?"), source="webhook")

    page = browser_page
    page.goto(f"{live_server.url}/inbox/")
    assert "/login/?next=" in page.url and "/admin/" not in page.url
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "login.png"), full_page=True)
    page.fill("#id_username", "staffer")
    page.fill("#id_password", "a-long-pass-123")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/inbox/**")
    assert page.locator("#rows").get_by_text("Ann Lee").is_visible()
    assert page.get_by_text("Could we talk on Thursday?").is_visible()

    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "inbox-list.png"), full_page=True)
    page.keyboard.press("Enter")  # opens the selected (first) conversation
    page.wait_for_selector("#thread")
    assert page.locator("#thread").get_by_text("Could we talk on Thursday?").is_visible()
    page.keyboard.press("r")
    page.keyboard.type("Thursday at 10 works for me.")
    page.click("#send")
    page.wait_for_selector("ul.messages li.success")
    assert page.locator("#thread").get_by_text("Thursday at 10 works for me.").is_visible()
    assert page.locator("#thread .pill", has_text="queued").is_visible()

    action = OutboundAction.objects.get(conversation__chat_id="chat-1")
    assert action.text == "Thursday at 10 works for me." and action.account == w["acc_a"]
    assert Message.objects.filter(direction="out").count() == 1
    if os.environ.get("SCREENSHOT_DIR"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOT_DIR"], "inbox-conversation.png"), full_page=True)


PAGES = [
    "/login/",
    "/inbox/",
    "/inbox/?q=thursday",
    "/reports/",
    "/admin/",
    "/admin/campaigns/campaign/add/",
    "/admin/leads/lead/",
    "/admin/outreach/apitoken/add/",
    "/admin/integrations/linkedinaccount/",
    "/admin/integrations/linkedinaccount/connect/",
    "/connect/done/?result=connected",
    "/api/v1/docs/",
    "/api/v1/redoc/",
]


def test_every_page_keeps_its_content_security_policy(live_server, inbox_world, browser_page):
    """No page runs an inline script or loads what the policy refuses: Chromium reports each violation."""
    get_user_model().objects.create_superuser("root", password="a-long-pass-123")
    page = browser_page
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: violations.append(f"page error: {e}"))
    admin_login(page, live_server, "root", "a-long-pass-123")
    from django.utils import timezone

    from integrations.models import HostedAuthLink

    account = inbox_world["acc_a"]
    link = HostedAuthLink.objects.create(
        public_id="csp-link", secret_digest="0" * 64, kind="reconnect", client=account.client, account=account,
        url="https://hosted.example/l", expires_at=timezone.now() + timezone.timedelta(minutes=30),
    )  # fmt: skip
    account_pages = [
        f"/admin/integrations/linkedinaccount/{account.pk}/health/",
        f"/admin/integrations/linkedinaccount/connect/{link.public_id}/",  # polls its state from a script file
    ]
    for path in [*PAGES, *account_pages]:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
        if path == "/api/v1/docs/":
            page.wait_for_selector(".swagger-ui .info")  # Swagger UI started from its script file
    # Redoc's bundle fetches its own logo from cdn.redoc.ly (drf-spectacular-sidecar issue 11): the policy
    # blocks that outside request, as it should, and Redoc shows the page without the logo.
    assert [v for v in violations if "cdn.redoc.ly/redoc/logo-mini.svg" not in v] == []
    # The scripts moved to files still work: "Log out" posts its hidden form.
    page.goto(f"{live_server.url}/inbox/")
    page.click("a[data-submit=logout]")
    page.wait_for_url(f"{live_server.url}/login/**")
