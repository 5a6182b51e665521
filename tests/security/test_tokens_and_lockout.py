"""Hashed, revocable, expiring API tokens; login lockout on every door; throttles that count before auth."""

import datetime as dt
import io
import threading

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from outreach.api.authentication import REFUSED
from outreach.api.tokens import api_token_issue, api_token_revoke
from outreach.models import ApiToken, Membership
from outreach.netaddr import client_address
from outreach.ratelimit import hit
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counts():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def member(client_org):
    user = get_user_model().objects.create_user("ann", email="ann@agency.io", password="a-long-pass-123")
    Membership.objects.create(user=user, client=client_org, role="agent")
    return user


def call(key, path="/api/v1/clients", **extra):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}", **extra)
    return api.get(path)


# --- Tokens ------------------------------------------------------------------------------------


def test_the_database_never_holds_the_token(member):
    out = io.StringIO()
    call_command("api_token", "ann", "--name", "CRM sync", stdout=out, stderr=io.StringIO())
    key = out.getvalue().strip()
    assert call(key).status_code == 200
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)  # every table of every app, after the token was used
    assert key not in dump.getvalue() and key[12:] not in dump.getvalue()
    token = ApiToken.objects.get(user=member)
    assert token.prefix == key[:12] and token.name == "CRM sync" and token.last_used_at is not None


def test_revoked_expired_unknown_and_inactive_tokens_get_the_same_refusal(member):
    revoked = api_token_issue(user=member)
    expiring = api_token_issue(user=member, expires_at=timezone.now() + dt.timedelta(minutes=5))
    api_token_revoke(token=revoked[0])
    ApiToken.objects.filter(pk=expiring[0].pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    inactive_user = factories.UserFactory()
    inactive = api_token_issue(user=inactive_user)
    inactive_user.is_active = False
    inactive_user.save()
    answers = [call(key) for key in (revoked[1], expiring[1], "otk_never-issued", inactive[1])]
    assert {a.status_code for a in answers} == {401}
    assert {a.json()["message"] for a in answers} == {REFUSED}


def test_several_tokens_per_user_each_revoked_alone(member):
    first, second = api_token_issue(user=member, name="one"), api_token_issue(user=member, name="two")
    api_token_revoke(token=first[0])
    assert call(first[1]).status_code == 401 and call(second[1]).status_code == 200


def test_command_rotates_by_default_and_can_keep_the_others(member):
    old = api_token_issue(user=member)[1]
    out = io.StringIO()
    call_command("api_token", "ann", "--keep-others", "--expires-days", "30", stdout=out, stderr=io.StringIO())
    kept = out.getvalue().strip()
    assert call(old).status_code == 200 and call(kept).status_code == 200
    assert ApiToken.objects.get(prefix=kept[:12]).expires_at > timezone.now() + dt.timedelta(days=29)
    out = io.StringIO()
    call_command("api_token", "ann", stdout=out, stderr=io.StringIO())
    assert call(old).status_code == 401 and call(kept).status_code == 401
    assert call(out.getvalue().strip()).status_code == 200


def test_command_refuses_a_bad_expiry(member):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--expires-days"):
        call_command("api_token", "ann", "--expires-days", "0")
    assert not ApiToken.objects.exists()


def test_admin_issues_a_token_once_on_a_page_not_in_a_message(client, admin_user, member):
    client.force_login(admin_user)
    response = client.post(reverse("admin:outreach_apitoken_add"), {"user": member.pk, "name": "Zapier"})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    page = response.content.decode()
    key = page.split('user-select:all">')[1].split("<")[0]
    assert call(key).status_code == 200
    assert "messages" not in response.cookies
    token = ApiToken.objects.get(user=member)
    assert token.created_by == admin_user
    assert key not in client.get(reverse("admin:outreach_apitoken_change", args=[token.pk])).content.decode()
    assert key not in client.get(reverse("admin:outreach_apitoken_changelist")).content.decode()
    # Revoking from the list stops it at once.
    client.post(reverse("admin:outreach_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]})
    assert call(key).status_code == 401
    changelist = reverse("admin:outreach_apitoken_changelist")
    assert token.prefix in client.get(changelist, {"state": "revoked"}).content.decode()
    assert token.prefix not in client.get(changelist, {"state": "active"}).content.decode()


def test_admin_refuses_a_past_expiry_naming_the_field(client, admin_user, member):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:outreach_apitoken_add"),
        {"user": member.pk, "name": "x", "expires_at_0": "2020-01-01", "expires_at_1": "10:00:00"},
    )
    assert response.status_code == 200
    assert "The expiry must be in the future." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_an_operator_cannot_mint_a_token_for_a_superuser(client, admin_user):
    from django.contrib.auth.models import Permission

    operator = get_user_model().objects.create_user("operator", password="pw-for-tests-1", is_staff=True)
    operator.user_permissions.add(*Permission.objects.filter(codename__in=["add_apitoken", "view_apitoken"]))
    client.force_login(operator)
    response = client.post(reverse("admin:outreach_apitoken_add"), {"user": admin_user.pk})
    assert "Only a superuser can issue a token for another staff member." in response.content.decode()
    assert not ApiToken.objects.exists()


# --- Lockout -----------------------------------------------------------------------------------


@pytest.mark.parametrize("door", ["admin:login", "login"])
def test_the_right_password_is_refused_after_too_many_wrong_ones(client, settings, door):
    settings.AXES_FAILURE_LIMIT = 5
    get_user_model().objects.create_superuser("root", password="pw-for-tests-1")
    for _ in range(4):
        assert client.post(reverse(door), {"username": "root", "password": "wrong"}).status_code == 200
    fifth = client.post(reverse(door), {"username": "root", "password": "wrong"})
    assert fifth.status_code == 429  # the fifth failure locks
    locked = client.post(reverse(door), {"username": "root", "password": "pw-for-tests-1"})
    assert locked.status_code == 429 and "Too many failed attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_locked_out_unknown_username_looks_like_a_known_one(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    get_user_model().objects.create_user("known", password="pw-for-tests-1")
    answers = {}
    for name in ("known", "unknown-person"):
        for _ in range(3):
            client.post(reverse("login"), {"username": name, "password": "wrong"}, REMOTE_ADDR=f"10.0.0.{len(name)}")
        answers[name] = client.post(
            reverse("login"), {"username": name, "password": "wrong"}, REMOTE_ADDR=f"10.0.0.{len(name)}"
        )
    assert answers["known"].status_code == answers["unknown-person"].status_code == 429
    assert answers["known"].content == answers["unknown-person"].content


def test_one_address_trying_many_usernames_is_locked_out(client, settings):
    settings.AXES_FAILURE_LIMIT = 4
    get_user_model().objects.create_user("victim", password="pw-for-tests-1")
    for i in range(4):
        client.post(reverse("login"), {"username": f"guess{i}", "password": "x"}, REMOTE_ADDR="10.9.9.9")
    response = client.post(
        reverse("login"), {"username": "victim", "password": "pw-for-tests-1"}, REMOTE_ADDR="10.9.9.9"
    )
    assert response.status_code == 429
    # Another address still gets in.
    other = client.post(reverse("login"), {"username": "victim", "password": "pw-for-tests-1"}, REMOTE_ADDR="10.1.1.1")
    assert other.status_code == 302


def test_guessing_tokens_locks_the_address_out_of_the_api(member, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.API_ANON_THROTTLE_RATE = "1000/min"
    good = api_token_issue(user=member)[1]
    assert [call(f"otk_guess{i}", REMOTE_ADDR="10.2.2.2").status_code for i in range(3)] == [401, 401, 429]
    locked = call(good, REMOTE_ADDR="10.2.2.2")
    assert locked.status_code == 429 and locked.json()["code"] == "locked_out"
    assert call(good, REMOTE_ADDR="10.3.3.3").status_code == 200


# --- Throttling --------------------------------------------------------------------------------


def test_anonymous_requests_are_throttled_before_authentication(db, settings):
    settings.API_ANON_THROTTLE_RATE = "3/min"
    api = APIClient()
    statuses = [api.get("/api/v1/clients").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert api.get("/api/v1/nothing-here").json()["code"] == "rate_limited"


def test_wrong_tokens_spend_the_addresses_budget(member, settings):
    settings.API_ANON_THROTTLE_RATE = "2/min"
    settings.AXES_FAILURE_LIMIT = 100
    assert call("otk_bad1").status_code == 401
    assert call("otk_bad2").status_code == 401
    answer = call("otk_bad3")
    assert answer.status_code == 429 and int(answer["Retry-After"]) > 0


def test_the_address_comes_from_the_trusted_proxies_only(rf, settings):
    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9", REMOTE_ADDR="10.0.0.1")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request) == "10.0.0.1"  # the header is anybody's to write
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_address(request) == "203.0.113.9"  # what our proxy saw; 6.6.6.6 was written by the client
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_address(request) == "6.6.6.6"
    bad = rf.get("/", HTTP_X_FORWARDED_FOR="not-an-address", REMOTE_ADDR="10.0.0.1")
    assert client_address(bad) == "10.0.0.1"


def test_a_spoofed_forwarded_for_does_not_buy_a_new_budget(db, settings):
    settings.API_ANON_THROTTLE_RATE = "2/min"
    settings.TRUSTED_PROXY_COUNT = 0
    api = APIClient()
    answers = [api.get("/api/v1/clients", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code for i in range(3)]
    assert answers[-1] == 429


def _hammer(threads: int, per_thread: int, limit: int) -> int:
    allowed = []
    barrier = threading.Barrier(threads)

    def worker():
        barrier.wait()
        try:
            allowed.extend(hit("concurrency-test", limit, 60).allowed for _ in range(per_thread))
        finally:
            connections.close_all()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(allowed)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL for concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_the_database_counter_never_passes_its_limit_under_concurrency():
    assert _hammer(threads=12, per_thread=25, limit=120) == 120


@pytest.mark.django_db(transaction=True)
def test_the_redis_counter_never_passes_its_limit_under_concurrency(settings):
    import redis

    url = "redis://127.0.0.1:6379/7"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("needs a Redis server on 127.0.0.1:6379; none answered")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    from django.core.cache import caches

    caches["default"].clear()
    try:
        assert _hammer(threads=12, per_thread=25, limit=120) == 120
    finally:
        caches["default"].clear()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL for concurrent requests")
@pytest.mark.django_db(transaction=True)
def test_concurrent_api_requests_never_pass_the_token_budget(settings):
    settings.API_THROTTLE_RATE = "40/min"
    client = factories.ClientFactory()
    user = get_user_model().objects.create_user("busy", password="pw-for-tests-1")
    Membership.objects.create(user=user, client=client, role="viewer")
    key = api_token_issue(user=user)[1]
    statuses = []
    barrier = threading.Barrier(8)

    def worker():
        barrier.wait()
        try:
            statuses.extend(call(key).status_code for _ in range(10))
        finally:
            connections.close_all()

    pool = [threading.Thread(target=worker) for _ in range(8)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert statuses.count(200) == 40 and statuses.count(429) == 40


def test_the_readme_command_works_from_a_fresh_shell(tmp_path):
    """`DEBUG=true .venv/bin/python manage.py api_token alice`, as the README shows it, with nothing else set."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DEBUG": "true",
        "OUTREACH_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
        "DJANGO_SUPERUSER_PASSWORD": "a-long-pass-123",
    }

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=root, env=env, capture_output=True, text=True, timeout=180
        )

    assert manage("migrate", "-v0").returncode == 0
    assert manage("createsuperuser", "--noinput", "--username", "alice", "--email", "a@example.com").returncode == 0
    issued = manage("api_token", "alice")
    assert issued.returncode == 0, issued.stderr
    key = issued.stdout.strip()
    assert key.startswith("otk_") and "shown only now" in issued.stderr
    assert key not in (tmp_path / "fresh.sqlite3").read_bytes().decode("latin-1")


def test_a_clean_address_with_a_good_token_costs_no_lockout_query(member):
    from django.test.utils import CaptureQueriesContext

    key = api_token_issue(user=member)[1]
    call(key)
    with CaptureQueriesContext(connection) as queries:
        assert call(key).status_code == 200
    assert not [q for q in queries.captured_queries if "axes_" in q["sql"]]
    call("otk_wrong")  # now the address is flagged: axes is asked, and the good token still works
    with CaptureQueriesContext(connection) as queries:
        assert call(key).status_code == 200
    assert [q for q in queries.captured_queries if "axes_" in q["sql"]]


@pytest.mark.parametrize("header", ["Bearer abc", "Basic YTpi", "Token", "Token a b", "tokenabc"])
def test_no_authorization_header_escapes_the_anonymous_budget(db, settings, header):
    settings.API_ANON_THROTTLE_RATE = "2/min"
    settings.AXES_FAILURE_LIMIT = 100
    api = APIClient()
    statuses = [api.get("/api/v1/clients", HTTP_AUTHORIZATION=header).status_code for _ in range(3)]
    assert statuses[:2] == [401, 401] and statuses[2] == 429, (header, statuses)


def test_minting_a_token_for_other_staff_is_refused_the_same_way_by_every_way_in(client, admin_user):
    """Parity: the admin's add form and the user list's action both go through api_token_check."""
    from django.contrib.auth.models import Permission

    operator = get_user_model().objects.create_user("op2", password="pw-for-tests-1", is_staff=True)
    operator.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_apitoken", "view_apitoken", "view_user", "change_user"])
    )
    client.force_login(operator)
    refusal = "Only a superuser can issue a token for another staff member."
    form = client.post(reverse("admin:outreach_apitoken_add"), {"user": admin_user.pk})
    assert refusal in form.content.decode()
    action = client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "issue_api_token", "_selected_action": [admin_user.pk]},
        follow=True,
    )
    assert refusal in action.content.decode()
    assert not ApiToken.objects.exists()
