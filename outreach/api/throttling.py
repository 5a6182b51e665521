"""Request throttling per API token (per user for sessions, per address when anonymous).

Counts live in the default cache, which is Redis when REDIS_URL is set and the database cache
otherwise, so every web process sees the same counts. This protects the API; LinkedIn send caps
are enforced by the engine's RateUsage counters, never here.
"""

from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.throttling import SimpleRateThrottle


class ApiRateThrottle(SimpleRateThrottle):
    scope = "api"

    def get_rate(self):
        return settings.API_THROTTLE_RATE if self.scope == "api" else settings.API_ANON_THROTTLE_RATE

    def allow_request(self, request, view):
        self.scope = "api" if request.user and request.user.is_authenticated else "anon"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        if isinstance(request.auth, Token):
            ident = f"token:{request.auth.key[:12]}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"addr:{self.get_ident(request)}"
        return f"throttle:{self.scope}:{ident}"
