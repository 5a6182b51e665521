import pytest
from django.db.utils import OperationalError

from outreach import health


@pytest.mark.django_db
def test_healthy(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_broker_down_is_503_naming_it(client, settings, tmp_path):
    settings.BROKER_DIR = tmp_path / "missing"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["broker"] and body["checks"]["database"] == "ok"
    assert "does not exist" in body["checks"]["broker"]


@pytest.mark.django_db
def test_database_down_is_503_naming_it(client, monkeypatch):
    def broken():
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "check_database", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["down"] == ["database"]
    assert "connection refused" in response.json()["checks"]["database"]


@pytest.mark.django_db
def test_worker_heartbeat_is_reported(client):
    from outreach.tasks import heartbeat

    assert client.get("/healthz").json()["worker_last_seen_seconds_ago"] is None
    heartbeat.apply()
    assert client.get("/healthz").json()["worker_last_seen_seconds_ago"] == 0


@pytest.mark.redis
def test_redis_broker_check(settings):
    import redis

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("needs a Redis server on 127.0.0.1:6379; none answered")
    from outreach.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:6379/0"
    try:
        assert health.check_broker() == "ok"
        app.conf.broker_url = "redis://127.0.0.1:1/0"
        with pytest.raises(Exception):
            health.check_broker()
    finally:
        app.conf.broker_url = original


def test_healthz_refuses_post(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_the_default_cache_is_shared_through_the_database(settings):
    from django.core.cache import caches

    if settings.REDIS_URL:
        pytest.skip("REDIS_URL is set: the cache is Redis")
    cache = caches["default"]
    assert cache.__class__.__name__ == "DatabaseCache"
    cache.set("shared-key", 41)
    cache.incr("shared-key")
    assert cache.get("shared-key") == 42
