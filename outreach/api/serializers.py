"""Serializer helpers shared by every resource: unknown fields refused, ids as strings."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class StrictMixin:
    """A write naming a field the resource does not have is a 400 naming that field."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(str(key) for key in data if key not in writable)
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: ["Unknown field." if name not in self.fields else "This field is read-only."]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


class StrictSerializer(StrictMixin, serializers.Serializer):
    pass


class StrictModelSerializer(StrictMixin, serializers.ModelSerializer):
    pass


@extend_schema_field({"type": "string", "pattern": "^[0-9]+$", "example": "42"})
class IdField(serializers.PrimaryKeyRelatedField):
    """A related object's id, written and read as a string; only objects of `queryset` are accepted."""

    default_error_messages = {
        "does_not_exist": "No such object, or not one you may use: {pk_value}.",
        "incorrect_type": "Expected an id as a string of digits, got {data_type}.",
    }

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        text = str(data)
        if not text.isdigit() or not 0 < int(text) < 2**63:
            self.fail("does_not_exist", pk_value=text[:40])
        return super().to_internal_value(int(text))

    def to_representation(self, value):
        return str(value.pk)


@extend_schema_field({"type": "string", "readOnly": True, "example": "42"})
class PkField(serializers.ReadOnlyField):
    """The object's own id as a string."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "pk")
        super().__init__(**kwargs)

    def to_representation(self, value):
        return str(value)


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300, help_text="Why; kept with the change.")


class OptionalReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


@extend_schema_field({"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$", "example": "09:00"})
class ClockTimeField(serializers.TimeField):
    """A wall-clock time as HH:MM (seconds accepted on input)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("format", "%H:%M")
        kwargs.setdefault("input_formats", ["%H:%M", "%H:%M:%S"])
        super().__init__(**kwargs)
