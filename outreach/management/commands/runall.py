"""Run the whole system in one terminal: web server, one celery worker and beat. Ctrl-C stops them all."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Start the web server, a celery worker and celery beat together (the embedded default of `make run`)."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")

    def handle(self, *args, addr, **options):
        for folder in (settings.BROKER_DIR / "queue", settings.BROKER_DIR / "processed"):
            folder.mkdir(parents=True, exist_ok=True)
        python = sys.executable
        celery = [python, "-m", "celery", "-A", "outreach"]
        commands = {
            "web": [python, "manage.py", "runserver", addr, "--noreload"],
            "worker": [
                *celery,
                "worker",
                "--loglevel=INFO",
                "--concurrency=1",
                "--pool=solo",
                "--without-mingle",
                "--without-gossip",
            ],
            "beat": [*celery, "beat", "--loglevel=INFO", "--scheduler=django_celery_beat.schedulers:DatabaseScheduler"],
        }
        broker = "Redis" if settings.REDIS_URL else f"filesystem queue under {settings.BROKER_DIR}"
        self.stdout.write(
            self.style.SUCCESS(
                f"Outreach: admin http://{addr}/admin/  inbox http://{addr}/inbox/  API docs http://{addr}/api/v1/docs/"
                f"  (broker: {broker})  Ctrl-C stops everything."
            )
        )
        processes = {name: subprocess.Popen(cmd, env=os.environ.copy()) for name, cmd in commands.items()}

        def stop(*_):
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for process in processes.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()

        signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
        try:
            while True:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(f"{name} exited with code {process.returncode}; stopping the others.")
                        stop()
                        sys.exit(process.returncode or 1)
                time.sleep(1)
        except KeyboardInterrupt:
            self.stdout.write("Stopping…")
            stop()
