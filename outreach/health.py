"""Health of the parts a deployment needs: the database must answer, the broker must accept a connection."""

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .celery import app as celery_app
from .models import Heartbeat


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_broker() -> str:
    if celery_app.conf.broker_url.startswith("filesystem://"):
        folder = settings.BROKER_DIR / "queue"
        if not folder.is_dir():
            raise RuntimeError(f"broker folder {folder} does not exist")
        return "ok"
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


def run_checks() -> dict:
    checks, down = {}, []
    for name, check in (("database", check_database), ("broker", check_broker)):
        try:
            checks[name] = check()
        except Exception as exc:  # a health check reports every failure, whatever its kind
            checks[name] = f"down: {exc.__class__.__name__}: {exc}"[:300]
            down.append(name)
    report = {"status": "ok" if not down else "error", "checks": checks}
    if down:
        report["down"] = down
    if "database" not in down:
        beat = Heartbeat.objects.filter(name="worker").values_list("last_seen", flat=True).first()
        # Informational: a stopped worker does not make the web tier unhealthy, but operators should see it.
        report["worker_last_seen_seconds_ago"] = round((timezone.now() - beat).total_seconds()) if beat else None
    return report
