"""The uniform error body of everything machines talk to: {"code", "message", "details"}."""

from django.http import JsonResponse

# Everything under this prefix answers machines: JSON bodies, never HTML pages.
API_PREFIX = "/api/"


def error_response(status: int, code: str, message: str, details: dict | None = None) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "details": details or {}}, status=status)
