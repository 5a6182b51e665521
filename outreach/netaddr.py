"""The client's address, as the configured number of trusted reverse proxies reports it.

With TRUSTED_PROXY_COUNT = 0 (the default) X-Forwarded-For is ignored: anybody can write it. With N
proxies in front, each appends the address it saw, so the client is the N-th entry from the right;
entries further left were written by the client and are not believed.
"""

import ipaddress

from django.conf import settings


def client_address(request) -> str | None:
    """None when the request has no address at all (a request built in code, not received)."""
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    candidate = forwarded[-min(count, len(forwarded))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
