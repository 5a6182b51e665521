"""Cursor pagination: stable while rows are inserted, cheap on tables of millions of rows."""

import datetime as dt
from base64 import b64decode
from binascii import Error as BinasciiError
from urllib import parse

from django.utils.dateparse import parse_date, parse_datetime
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import Cursor, CursorPagination

from .exceptions import ApiError


class ApiCursorPagination(CursorPagination):
    page_size = 50
    max_page_size = 500
    page_size_query_param = "limit"
    ordering = "-id"
    invalid_cursor_message = "The cursor is not one this API handed out; start again without it."

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            raise ValidationError({"limit": [f"{raw!r} is not a whole number."]}) from None
        if not 1 <= size <= self.max_page_size:
            raise ValidationError({"limit": [f"Must be between 1 and {self.max_page_size}."]})
        return size

    def decode_cursor(self, request):
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        try:
            querystring = b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
            tokens = parse.parse_qs(querystring, keep_blank_values=True)
            offset = int(tokens.get("o", ["0"])[0])
            reverse = bool(int(tokens.get("r", ["0"])[0]))
            position = tokens.get("p", [None])[0]
            if not 0 <= offset <= self.offset_cutoff:
                raise ValueError
            if position is not None:
                self._check_position(position)
        except (TypeError, ValueError, UnicodeError, BinasciiError):
            raise ApiError(404, "invalid_cursor", self.invalid_cursor_message) from None
        return Cursor(offset=offset, reverse=reverse, position=position)

    def _check_position(self, position: str) -> None:
        """A position is compared with the first ordering field; refuse one that field cannot hold."""
        field = self.ordering[0].lstrip("-") if isinstance(self.ordering, list | tuple) else self.ordering.lstrip("-")
        if field in ("id", "pk") or field.endswith("_id"):
            value = int(position)
            if not 0 <= value < 2**63:
                raise ValueError
        elif field.endswith(("_at", "day")):
            moment = parse_datetime(position)
            if moment is None and parse_date(position) is None:
                raise ValueError
            # Positions we write are UTC; another offset is made up (and PostgreSQL refuses some, a 500).
            if moment is not None and moment.utcoffset() not in (None, dt.timedelta(0)):
                raise ValueError
        elif len(position) > 500:
            raise ValueError

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size, "default": 50}
                parameter["description"] = f"Rows per page, 1 to {self.max_page_size} (default {self.page_size})."
            if parameter["name"] == self.cursor_query_param:
                parameter["description"] = "The `next` or `previous` link's cursor; a made-up cursor is a 404."
        return parameters
