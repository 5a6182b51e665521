from django.http import JsonResponse
from django.views.decorators.http import require_GET

from .health import run_checks


@require_GET
def healthz(request):
    report = run_checks()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
