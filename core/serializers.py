"""Request serializers refuse what they do not know.

The schema says `additionalProperties: false` on every request body (core/openapi.py),
so a field the operation does not take is a 400 that names it, on every route alike,
rather than silently ignored: a typo (`vioce`) is caught where it is made, and the schema
states exactly what the server takes (docs/api.md "Errors", docs/ARCHITECTURE.md
"The schema")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers


def unknown_fields(data: Any, known: set[str]) -> list[str]:
    """The keys of `data` (a JSON object or a form) outside `known`, in a stable order."""
    if not isinstance(data, Mapping):
        return []
    return sorted(str(key) for key in data.keys() if key not in known)


def refuse_unknown_fields(data: Any, known: set[str]) -> None:
    """A ValidationError naming each key of `data` outside `known`, if there is one."""
    unknown = unknown_fields(data, known)
    if unknown:
        message = "Unknown field: this operation takes " + ", ".join(sorted(known)) + "."
        raise serializers.ValidationError({name: [message] for name in unknown})


# Comments, not docstrings, in the classes below: drf-spectacular describes a serializer
# without a docstring of its own by the first docstring up its bases.
class RefusesUnknownFields:
    # An input key that is not a writable field is a ValidationError on that key
    # (read-only fields are not taken either).

    def to_internal_value(self, data: Any) -> Any:
        refuse_unknown_fields(data, {name for name, field in self.fields.items() if not field.read_only})  # type: ignore[attr-defined]
        return super().to_internal_value(data)  # type: ignore[misc]


class Serializer(RefusesUnknownFields, serializers.Serializer):
    pass


class ModelSerializer(RefusesUnknownFields, serializers.ModelSerializer):
    pass
