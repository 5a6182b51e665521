"""Bad settings stop start-up with a message naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def start(**env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "OUTREACH_TESTING"}}
    env.update(
        {"DJANGO_SETTINGS_MODULE": "outreach.settings", "SECRET_KEY": "x" * 50, "DEBUG": "false", **env_overrides}
    )
    env = {k: v for k, v in env.items() if v is not None}
    code = "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL='mysql://u@h/db' is not supported"),
        ({"DATABASE_URL": "postgres://"}, "DATABASE_URL='postgres://'"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL='not a url'"),
        ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
        ({"UNIPILE_SANDBOX": "true"}, "UNIPILE_SANDBOX=true is refused when DEBUG is off"),
        ({"UNIPILE_SANDBOX": "perhaps"}, "UNIPILE_SANDBOX='perhaps' is not a boolean"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL='localhost:6379' is not a valid URL"),
        ({"PUBLIC_BASE_URL": "ftp://x"}, "PUBLIC_BASE_URL='ftp://x'"),
        ({"UNIPILE_DSN": "https://api1.unipile.com:13111/api/v1"}, "UNIPILE_DSN="),
        ({"UNIPILE_DSN": "http://127.0.0.1:9000"}, "UNIPILE_DSN='http://127.0.0.1:9000' uses plain http"),
        ({"UNIPILE_DSN": "ftp://127.0.0.1:9000"}, "UNIPILE_DSN='ftp://127.0.0.1:9000': the scheme"),
        ({"RATE_LIMIT_COOLDOWN_MINUTES": "5,soon"}, "RATE_LIMIT_COOLDOWN_MINUTES='5,soon'"),
        ({"CONNECTION_LAG_RETRY_MINUTES": "0"}, "CONNECTION_LAG_RETRY_MINUTES='0'"),
        ({"DATABASE_CONN_MAX_AGE": "soon", "DATABASE_URL": "postgres://u@h/db"}, "DATABASE_CONN_MAX_AGE='soon'"),
    ],
)
def test_bad_values_stop_start_up_naming_the_variable(overrides, message):
    result = start(**overrides)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_good_values_start(tmp_path):
    result = start(DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3", DEBUG="off", REDIS_URL="redis://127.0.0.1:6379/0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_debug_generates_a_dev_key_when_none_is_set(tmp_path):
    result = start(
        SECRET_KEY=None, DEBUG="yes", DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3", OUTREACH_VAR_DIR=str(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    key = (tmp_path / "dev-secret-key").read_text()
    assert key.startswith("dev-only-")
    start(SECRET_KEY=None, DEBUG="yes", DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3", OUTREACH_VAR_DIR=str(tmp_path))
    assert (tmp_path / "dev-secret-key").read_text() == key  # shared by every process, kept across restarts


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(settings):
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("SQLite-only setting; this run is on PostgreSQL")
    options = settings.DATABASES["default"]["OPTIONS"]
    assert "journal_mode=WAL" in options["init_command"] and options["timeout"] >= 5


def test_a_plain_http_gateway_is_allowed_when_an_operator_says_so(tmp_path):
    result = start(
        DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3", UNIPILE_DSN="http://127.0.0.1:9000", UNIPILE_ALLOW_HTTP="true"
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("dsn", "base_url"),
    [
        ("api27.unipile.com:15744", "https://api27.unipile.com:15744/api/v1"),
        ("https://api27.unipile.com:15744/", "https://api27.unipile.com:15744/api/v1"),
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000/api/v1"),
    ],
)
def test_the_client_talks_to_the_scheme_the_dsn_names(settings, dsn, base_url):
    from integrations.unipile import UnipileClient

    settings.UNIPILE_SANDBOX, settings.UNIPILE_DSN, settings.UNIPILE_API_KEY = False, dsn, "k"
    assert UnipileClient.from_settings().base_url == base_url
