"""What the browser tests share: headless Debian Chromium through Playwright (.ci/run installs chromium), the
marks that skip a test with the reason when either is missing, and a staff login through the admin. The page
itself is the `browser_page` fixture (tests/conftest.py). A test module sets `pytestmark = MARKS`."""

import importlib.util
import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
MARKS = [
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None, reason="playwright is not installed"),
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM} (apt install chromium)"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
]


def admin_login(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
