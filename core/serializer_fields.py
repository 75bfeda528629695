"""Request fields that take what the schema says and nothing else.

DRF's fields coerce: a CharField turns `0` or `true` into "0"/"True", a UUIDField turns
an integer into a UUID. A client generated from /openapi.json, and a fuzzer checking the
schema, rightly expect a JSON string field to refuse a number (400), so request
serializers use these instead. Form and multipart values are always strings, so these
change nothing for uploads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rest_framework import serializers


class StrictCharField(serializers.CharField):
    default_error_messages = {"invalid": "Must be a string, not a {kind}."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid", kind=_kind(data))
        return super().to_internal_value(data)


class StrictUUIDField(serializers.UUIDField):
    default_error_messages = {"invalid": "Must be a UUID string such as 3fa85f64-5717-4562-b3fc-2c963f66afa6."}

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictChoiceField(serializers.ChoiceField):
    """A string from `choices`; `1` is not "1"."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """JSON `true` or `false`; `0`, `1` and "true" are not booleans."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class LanguageField(StrictCharField):
    """A language code, checked by the service that uses it (it knows the engine and
    answers a 400 naming the languages it speaks). `languages` is read each time the
    schema is generated, so /openapi.json lists what this server's engines speak
    (core/openapi.py documents it as the enum component `component`)."""

    def __init__(self, *, languages: Callable[[], Sequence[str]], component: str, **kwargs: Any) -> None:
        self.languages = languages
        self.component = component
        kwargs.setdefault("max_length", 16)
        super().__init__(**kwargs)
