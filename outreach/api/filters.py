"""Filtering, ordering and search conventions: a bad value is a 400 naming the parameter."""

import datetime as dt

import django_filters
from django import forms
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter, SearchFilter


class StrictOrderingFilter(OrderingFilter):
    """?ordering= on the documented fields only; anything else is refused rather than ignored."""

    def get_ordering(self, request, queryset, view):
        raw = request.query_params.get(self.ordering_param)
        if raw is None:
            return self.get_default_ordering(view)
        fields = [part.strip() for part in raw.split(",") if part.strip()]
        allowed = {name for name, _label in self.get_valid_fields(queryset, view, {"request": request})}
        bad = [f for f in fields if f.lstrip("-") not in allowed]
        if bad or not fields:
            raise ValidationError(
                {self.ordering_param: [f"Order by one of: {', '.join(sorted(allowed))} (prefix - for descending)."]}
            )
        # The id breaks ties, so a cursor over a non-unique field stays stable.
        if not any(f.lstrip("-") == "id" for f in fields):
            fields.append("-id" if fields[0].startswith("-") else "id")
        return fields

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        fields = [f for f in getattr(view, "ordering_fields", [])]
        for parameter in parameters:
            parameter["description"] = (
                f"Order by {', '.join(fields)}; prefix with - for descending. Default: {view.ordering[0]}."
            )
        return parameters


class LimitedSearchFilter(SearchFilter):
    max_length = 200

    def get_search_terms(self, request):
        raw = request.query_params.get(self.search_param, "")
        if len(raw) > self.max_length:
            raise ValidationError({self.search_param: [f"At most {self.max_length} characters."]})
        return super().get_search_terms(request)


class IdFilter(django_filters.Filter):
    """An id in a query string; a value that is not an id is a 400."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 moment, turned into UTC before it reaches the database.

    Python accepts offsets up to 23:59 and PostgreSQL only up to 15:59 (`...T01:27:54-23:04` was a 500);
    in UTC every offset is fine. A moment that falls outside the calendar once in UTC is a 400.
    """

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None or timezone.is_naive(moment):
            return moment
        try:
            return moment.astimezone(dt.UTC)
        except OverflowError:
            raise forms.ValidationError("This moment is out of range.", code="overflow") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField
