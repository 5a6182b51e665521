"""API request throttling: per token (per user for sessions), and per address before authentication.

Counts live in `outreach.ratelimit` (Redis INCR, or conditional UPDATEs on the database), shared by
every web process and exact under concurrency. Anonymous requests are counted by
`AnonymousApiThrottleMiddleware` before authentication runs, so neither an unauthenticated caller nor
one guessing tokens reaches the permission checks or the token lookup past its budget. This protects
the API; LinkedIn send caps are enforced by the engine's RateUsage counters, never here.
"""

from django.conf import settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from outreach.errors import API_PREFIX, error_response
from outreach.models import ApiToken
from outreach.netaddr import client_address
from outreach.ratelimit import hit, peek, raise_flag


def parse_rate(rate: str) -> tuple[int, int]:
    return SimpleRateThrottle.parse_rate(None, rate)


def address_key(request) -> str:
    return f"api:anon:{client_address(request) or 'unknown'}"


class ApiRateThrottle(BaseThrottle):
    """The authenticated budget (API_THROTTLE_RATE) per token, or per user for browser sessions."""

    def allow_request(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return True  # counted by the middleware, before authentication
        ident = f"token:{request.auth.pk}" if isinstance(request.auth, ApiToken) else f"user:{request.user.pk}"
        limit, duration = parse_rate(settings.API_THROTTLE_RATE)
        verdict = hit(f"api:{ident}", limit, duration)
        self._wait = verdict.wait
        return verdict.allowed

    def wait(self):
        return getattr(self, "_wait", None)


def throttled_response(wait: float):
    seconds = int(wait + 0.999)
    response = error_response(
        429, "rate_limited", f"Request was throttled. Expected available in {seconds} seconds.",
        {"retry_after_seconds": seconds},
    )  # fmt: skip
    response["Retry-After"] = str(seconds)
    return response


class AnonymousApiThrottleMiddleware:
    """Counts every /api/ request that carries no session against its address (API_ANON_THROTTLE_RATE).

    Requests with a token are only checked here (not counted): a wrong or malformed token is counted by the
    token authentication, so an address that runs out of budget guessing tokens is refused before the
    lookup. Any other Authorization header counts as anonymous.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(API_PREFIX) and not request.user.is_authenticated:
            limit, duration = parse_rate(settings.API_ANON_THROTTLE_RATE)
            key = address_key(request)
            if is_token_header(request.META.get("HTTP_AUTHORIZATION", "")):
                # One round trip: the address's budget, and whether it sent a wrong token lately (only then
                # does the token authentication ask axes whether the address is locked out).
                verdict = peek(key, limit, duration, flag=failed_token_flag(request))
                request.recent_token_failures = verdict.flagged
            else:
                verdict = hit(key, limit, duration)
            if not verdict.allowed:
                return throttled_response(verdict.wait)
        return self.get_response(request)


def is_token_header(value: str) -> bool:
    """An "Authorization: Token …" header (the scheme, as DRF reads it, in any case). Any other header is
    an anonymous request like one without a header, and is counted as one."""
    words = value.split()
    return bool(words) and words[0].lower() == "token"


def failed_token_flag(request) -> str:
    return f"api:token-failed:{client_address(request) or 'unknown'}"


def count_failed_token(request) -> None:
    """A refused token spends one request of its address's anonymous budget, and raises the address's
    flag for as long as a lockout lasts."""
    limit, duration = parse_rate(settings.API_ANON_THROTTLE_RATE)
    hit(address_key(request), limit, duration)
    raise_flag(failed_token_flag(request), int(settings.AXES_COOLOFF_TIME.total_seconds()))
