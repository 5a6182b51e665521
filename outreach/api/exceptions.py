"""Every error an API client sees has the body {"code", "message", "details"}.

DRF's own exceptions, the services' refusals, database conflicts and anything unexpected are all
turned into that body here; Django's 404 and 500 handlers do the same for paths under /api/.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from campaigns.services import CampaignActionRefused, OutboundActionRefused
from integrations.services import AccountActionRefused
from leads.services import InvalidTransition, LeadActionRefused

logger = logging.getLogger("outreach.api")

# The stable machine code for each HTTP status, where the exception did not name a better one.
CODE_FOR_STATUS = {
    400: "validation_error",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "conflict",
    429: "rate_limited",
    500: "server_error",
}
REFUSALS = (InvalidTransition, CampaignActionRefused, LeadActionRefused, AccountActionRefused, OutboundActionRefused)


class ApiError(exceptions.APIException):
    """An error with an explicit code, message and details."""

    def __init__(self, status_code: int, code: str, message: str, details: dict | None = None):
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details or {}
        super().__init__(detail=message, code=code)


class PayloadTooLarge(ApiError):
    def __init__(self, limit: int):
        super().__init__(
            413, "payload_too_large", f"The request body is larger than {limit} bytes.", {"max_bytes": limit}
        )


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {"code": code, "message": message, "details": details or {}}


def _flatten(detail):
    """DRF's nested ErrorDetail lists and dicts as plain strings, lists and dicts."""
    if isinstance(detail, dict):
        return {str(key): _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def _validation_message(details) -> str:
    if isinstance(details, dict) and details:
        field, problems = next(iter(details.items()))
        first = problems[0] if isinstance(problems, list) and problems else problems
        if isinstance(first, dict):
            return f"Invalid input in {field}."
        if field == "non_field_errors":
            return str(first)
        return f"{field}: {first}"
    if isinstance(details, list) and details:
        return str(details[0])
    return "Invalid input."


def _from_drf(exc: exceptions.APIException, response: Response, view=None) -> Response:
    if isinstance(exc, ApiError):
        response.data = error_body(exc.code, exc.message, exc.details)
        return response
    if isinstance(exc, exceptions.ValidationError):
        details = _flatten(exc.detail)
        if isinstance(details, list):
            details = {"non_field_errors": details}
        response.data = error_body("validation_error", _validation_message(details), details)
        return response
    code = CODE_FOR_STATUS.get(response.status_code, "error")
    detail = exc.detail
    codes = exc.get_codes()
    if isinstance(codes, str) and codes not in ("invalid", "error", "not_found", "throttled"):
        code = codes
    details = {}
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        details["retry_after_seconds"] = int(exc.wait + 0.999)
    if isinstance(exc, exceptions.MethodNotAllowed):
        details["allowed"] = list(getattr(view, "allowed_methods", []))
    message = str(detail) if not isinstance(detail, list | dict) else _validation_message(_flatten(detail))
    response.data = error_body(code, message, details)
    return response


def api_exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        exc = ApiError(413, "payload_too_large", "The request body is too large.")
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, REFUSALS):
        details = {}
        problems = getattr(exc, "problems", None)
        if problems:
            details["problems"] = [str(p) for p in problems]
        exc = ApiError(409, "invalid_state_transition", str(exc), details)
    elif isinstance(exc, DjangoValidationError):
        details = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(details)
    elif isinstance(exc, ProtectedError | RestrictedError):
        exc = ApiError(409, "conflict", "Other records still refer to this one; archive or remove them first.")
    elif isinstance(exc, IntegrityError):
        logger.warning("Integrity error answered as a conflict: %s", exc)
        exc = ApiError(409, "conflict", "The change conflicts with data stored meanwhile; fetch it and try again.")

    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("Unhandled error in %s", context.get("view").__class__.__name__, exc_info=exc)
        set_rollback()
        return Response(
            error_body("server_error", "Something went wrong on our side; it has been logged."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    return _from_drf(exc, response, context.get("view"))
