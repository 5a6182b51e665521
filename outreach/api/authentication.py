"""Token authentication against hashed keys, inside the login lockout.

A failed token counts as a failed login of the client's address (django-axes), and an address that is
locked out is refused before its token is even looked up. Every refusal says the same thing, whether
the key was never issued, revoked, expired, or belongs to an inactive user.
"""

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.signals import user_login_failed
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from outreach.api.throttling import count_failed_token
from outreach.api.tokens import api_token_find, api_token_touch
from outreach.netaddr import client_address

REFUSED = "Invalid, revoked or expired token."


def token_credentials(request) -> dict:
    """What axes counts a token failure under: the address, as the "username" of a token login."""
    return {"username": f"api-token@{client_address(request) or 'unknown'}"}


class LockedOut(exceptions.APIException):
    status_code = 429
    default_code = "locked_out"
    default_detail = "Too many failed attempts from this address; try again later."


class ApiTokenAuthentication(TokenAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        self._request = request._request
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            # A malformed "Token" header (no key, spaces, not text) fails before the lookup: it is a failed
            # attempt all the same, or such requests would escape the address's budget and the lockout.
            if not getattr(self, "_failure_counted", False):
                self._count_failure(self._request)
            raise

    def _count_failure(self, request):
        self._failure_counted = True
        user_login_failed.send(sender=__name__, credentials=token_credentials(request), request=request)
        count_failed_token(request)

    def authenticate_credentials(self, key):
        request = self._request
        credentials = token_credentials(request)
        # Axes is asked (two queries) only when this address sent a wrong token within a lockout's time; the
        # anonymous throttle's peek told us, in the round trip it makes anyway. Without that middleware in
        # front, always ask.
        if getattr(request, "recent_token_failures", True) and AxesProxyHandler.is_locked(request, credentials):
            raise LockedOut()
        token = api_token_find(key)
        if token is None:
            self._count_failure(request)
            raise exceptions.AuthenticationFailed(REFUSED)
        api_token_touch(token)
        return token.user, token
