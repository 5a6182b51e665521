from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.http import require_GET

from .errors import API_PREFIX, error_response
from .health import run_checks


@require_GET
def healthz(request):
    report = run_checks()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


def not_found(request, exception=None):
    if request.path.startswith(API_PREFIX):
        return error_response(404, "not_found", f"No API endpoint at {request.path[:200]}.")
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith(API_PREFIX):
        return error_response(500, "server_error", "Something went wrong on our side; it has been logged.")
    return defaults.server_error(request)
