"""Request fields that take what the schema says and nothing else.

DRF's fields coerce: a CharField turns `0` or `true` into "0"/"True", a UUIDField turns
an integer into a UUID. A client generated from /openapi.json, and a fuzzer checking the
schema, rightly expect a JSON string field to refuse a number (400), so request
serializers use these instead. Form and multipart values are always strings, so these
change nothing for uploads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from speech.engines.params import PARAM_RANGES
from speech.text import EMOTIONS


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


def params_schema(*, all_nullable: bool = False) -> dict:
    """Synthesis `params` as SynthesisParams.from_dict takes them: known keys only, each
    with its type and PARAM_RANGES bounds (OpenAPI 3.0 spells exclusive bounds as
    booleans). `all_nullable`: every key may be null (a voice's settings, where null
    removes the voice's own value)."""
    properties: dict[str, dict] = {}
    for name, (low, high, low_inclusive, high_inclusive) in PARAM_RANGES.items():
        schema: dict = {
            "type": "integer" if name in ("top_k", "seed", "max_new_tokens") else "number",
            "minimum": low,
            "maximum": high,
        }
        if not low_inclusive:
            schema["exclusiveMinimum"] = True
        if not high_inclusive:
            schema["exclusiveMaximum"] = True
        if all_nullable or name in ("seed", "max_new_tokens"):
            schema["nullable"] = True
        properties[name] = schema
    properties["do_sample"] = {"type": "boolean", **({"nullable": True} if all_nullable else {})}
    # OpenAPI 3.0: `nullable` does not widen an `enum`, so null is listed among the values.
    properties["emotion"] = {"type": "string", "enum": [*EMOTIONS, None], "nullable": True}
    return {"type": "object", "properties": properties, "additionalProperties": False}


@extend_schema_field(params_schema())
class ParamsField(serializers.DictField):
    """Checked by SynthesisParams.from_dict in the service; declared here for the schema."""
