"""Request middleware of the product: the viewer's timezone, and input PostgreSQL could not store."""

import zoneinfo

from django.http import HttpResponseBadRequest
from django.utils import timezone

from .errors import API_PREFIX, error_response
from .unstorable import strip_unstorable, unstorable_in

COOKIE = "tz"


class ViewerTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = request.COOKIES.get(COOKIE, "")
        zone = None
        if name and len(name) < 64:
            try:
                zone = zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                zone = None
        if zone is not None:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class RefuseUnstorableInputMiddleware:
    """A query parameter or form field holding a NUL character is a 400 naming it, on every page and endpoint.

    PostgreSQL cannot store or even compare a NUL in text, so such a value used as a filter or a search
    would end in a 500. Webhooks are left alone: provider input is stored with the characters removed.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/webhooks/"):
            sources = [("query parameter", request.GET)]
            # Form bodies of the pages and the admin (the API's bodies go through its own parsers, which need
            # the raw stream: reading the form here would consume it).
            if (
                request.method == "POST"
                and not request.path.startswith(API_PREFIX)
                and request.content_type
                in (
                    "application/x-www-form-urlencoded",
                    "multipart/form-data",
                )
            ):
                sources.append(("form field", request.POST))
            for kind, data in sources:
                for name, values in data.lists():
                    problem = unstorable_in(name) or next(filter(None, map(unstorable_in, values)), "")
                    if problem:
                        return self._refuse(request, kind, name, problem)
        return self.get_response(request)

    @staticmethod
    def _refuse(request, kind: str, name: str, problem: str):
        shown = strip_unstorable(name)[0][:60] or "(unnamed)"
        message = f"The {kind} {shown!r} contains {problem}, which is not allowed."
        if request.path.startswith(API_PREFIX):
            return error_response(400, "validation_error", message, {shown: [message]})
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
