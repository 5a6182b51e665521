"""Every page and endpoint needs a login or a token, except an explicit allow-list that checks its own secret."""

import re

import pytest
from django.urls import get_resolver

from tests.security.routes import walk

# name or path prefix -> why it may be reached without a login
ALLOWED = {
    "healthz": "health check: answers ok/503, no data",
    "admin:login": "the login page itself",
    "admin:logout": "logging out",
    "login": "the members' login page itself",
    "logout": "logging out",
    "password_reset": "asks for an email; the answer never says whether an account uses it",
    "password_reset_done": "a fixed page",
    "password_reset_confirm": "checks the signed, expiring reset token",
    "password_reset_complete": "a fixed page",
    "unipile-webhook": "checks the Unipile-Auth secret in constant time",
    "resend-webhook": "checks the Svix signature in constant time",
    "reports:unsubscribe": "checks the signed token",
    "hosted-auth-notify": "checks our single-use, expiring link token (its secret in constant time)",
    "connect-done": "a fixed page for an account's owner, naming no account",
}
SAMPLE = {"int": "1", "str": "x", "slug": "x", "path": "x", "uuid": "00000000-0000-0000-0000-000000000000"}


def _sample_path(pattern: str) -> str:
    path = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLE.get(m.group(1) or "str", "x"), pattern)
    # regex patterns of the API router and the admin
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "1", path)
    path = path.replace("^", "").replace("$", "").replace("\\", "")
    path = re.sub(r"\(\?:[^)]*\)\??", "", path).replace("?", "")
    return "/" + path.lstrip("/")


ROUTES = sorted({(_sample_path(p), name) for p, name in walk(get_resolver().url_patterns)})


@pytest.mark.parametrize(("path", "name"), ROUTES, ids=[f"{n or '-'} {p}" for p, n in ROUTES])
def test_every_route_needs_authentication(client, db, path, name):
    if name in ALLOWED or path.startswith("/sandbox/"):
        pytest.skip(ALLOWED.get(name, "sandbox provider: 404 unless UNIPILE_SANDBOX (refused when DEBUG is off)"))
    for method in ("get", "post"):
        response = getattr(client, method)(path)
        assert response.status_code in (302, 401, 403, 404, 405), (method, path, response.status_code)
        if response.status_code == 302:
            assert "/login/" in response["Location"], (path, response["Location"])
        if response.status_code == 200:
            pytest.fail(f"{path} answered 200 without a login")


def test_allow_listed_routes_still_check_their_secret(client, db, settings):
    settings.UNIPILE_WEBHOOK_SECRET = "s3cret"
    settings.RESEND_WEBHOOK_SECRET = "whsec_c2VjcmV0"
    assert client.post("/webhooks/unipile/messaging/", b"{}", content_type="application/json").status_code == 401
    assert client.post("/webhooks/resend/", b"{}", content_type="application/json").status_code == 401
    assert client.get("/reports/unsubscribe/not-signed").status_code == 400
    assert client.get("/sandbox/unipile/api/v1/accounts").status_code == 404


def test_the_walk_found_the_routes_that_matter():
    paths = {p for p, _n in ROUTES}
    for expected in ("/inbox/", "/reports/", "/api/v1/leads", "/api/v1/schema/", "/admin/"):
        assert expected in paths


def test_check_deploy_is_clean_when_debug_is_off(tmp_path):
    import os
    import secrets
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "PUBLIC_BASE_URL": "https://outreach.example.com",
        "ALLOWED_HOSTS": "outreach.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "OUTREACH_VAR_DIR": str(tmp_path),
    }
    for name in ("UNIPILE_SANDBOX", "DJANGO_ALLOW_ASYNC_UNSAFE", "REDIS_URL"):
        env.pop(name, None)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_no_debug_endpoints_or_tools_are_installed():
    from django.conf import settings

    tools = {"debug_toolbar", "silk", "django_extensions", "drf_yasg"}
    assert not tools & {app.split(".")[0] for app in settings.INSTALLED_APPS}
    assert not [p for p, _n in ROUTES if "__debug__" in p or p.startswith(("/debug", "/silk"))]
