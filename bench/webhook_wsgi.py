"""WSGI app for the intake benchmark only: the project's URLs plus a bare view, served by gunicorn.

Never deployed: `manage.py bench_webhooks --server gunicorn` starts it on a loopback port and stops it.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "outreach.settings")

from django.conf import settings
from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
settings.ROOT_URLCONF = "integrations.management.commands.bench_webhooks"
