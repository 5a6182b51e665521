"""The base of every API view: body size limit, Idempotency-Key, client scoping."""

from django.conf import settings
from django.db.models import QuerySet
from rest_framework.exceptions import NotFound

from . import idempotency
from .exceptions import PayloadTooLarge
from .permissions import READ, ClientRole, client_ids, level_for

MAX_ID = 2**63 - 1


class _Replay(Exception):
    """Carries a stored response out of initial() to be answered instead of running the handler."""

    def __init__(self, response):
        self.response = response


class ApiViewMixin:
    permission_classes = [ClientRole]
    # The field path from the model to its client id, used to scope querysets.
    client_field = "client_id"
    max_body_bytes: int | None = None

    def initial(self, request, *args, **kwargs):
        limit = self.get_max_body_bytes() or settings.API_MAX_BODY_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            raise PayloadTooLarge(limit)
        super().initial(request, *args, **kwargs)
        claimed = idempotency.claim(request)
        if isinstance(claimed, idempotency.IdempotencyKey):
            self._idempotency = claimed
        elif claimed is not None:
            raise _Replay(claimed)

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        claimed = getattr(self, "_idempotency", None)
        if claimed is not None:
            idempotency.record(claimed, response)
            self._idempotency = None
        return response

    def get_max_body_bytes(self) -> int | None:
        return self.max_body_bytes

    # --- scoping ---

    def scope(self, queryset: QuerySet, level: str = READ, field: str | None = None) -> QuerySet:
        """Rows of the clients in which the user holds `level`; `field` is the path to the client id."""
        if self.request.user.is_superuser:
            return queryset
        field = field or self.client_field
        return queryset.filter(**{f"{field}__in": client_ids(self.request, level)})

    def client_id_of(self, obj) -> int:
        value = obj
        for part in self.client_field.split("__"):
            value = getattr(value, part)
        return value

    def get_object(self):
        lookup = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
        if lookup is not None and not (str(lookup).isdigit() and 0 < int(lookup) <= MAX_ID):
            raise NotFound("Not found.")
        return super().get_object()

    @property
    def level(self) -> str:
        return level_for(self, self.request)
