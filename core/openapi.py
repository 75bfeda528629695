"""Shared OpenAPI pieces: the one error body, referenced by every endpoint's responses,
the errors every endpoint can answer, and the date filters' schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from core.parsers import MAX_JSON_INT

ErrorBody = inline_serializer(
    name="ErrorBody",
    fields={
        "error": inline_serializer(
            name="ErrorDetail",
            fields={
                "code": serializers.CharField(
                    help_text="validation_error, not_authenticated, permission_denied, not_found, "
                    "method_not_allowed, conflict, payload_too_large, unsupported_media_type, unprocessable, "
                    "rate_limited, quota_exceeded, service_unavailable, internal_error, audio_expired (410), "
                    "reauthentication_failed (403)"
                ),
                "message": serializers.CharField(),
                "details": serializers.DictField(),
            },
        )
    },
)


def error(description: str, code: str = "validation_error", message: str = "Invalid input.") -> OpenApiResponse:
    return OpenApiResponse(
        response=ErrorBody,
        description=description,
        examples=[OpenApiExample(code, value={"error": {"code": code, "message": message, "details": {}}})],
    )


COMMON_ERRORS = {
    400: error("Invalid input", "validation_error"),
    401: error("Missing or bad credentials", "not_authenticated", "Authentication credentials were not provided."),
    403: error("Key lacks a scope", "permission_denied"),
    429: error("Rate limited", "rate_limited", "Too many requests."),
}

# A page past the last one (`?page=`), on every paginated list.
PAGE_404 = error("A page past the last one", "not_found", "Page 3 is past the last page (2) at page_size=20.")

# `from` / `to` filters: a date or a datetime (ISO 8601), years 1970-2999 (the pattern
# says so; parse_when in synthesis/filters.py refuses others with 400), or empty for
# "no bound" (what an HTML form sends for an empty field).
_YEARS = r"^(19[7-9][0-9]|2[0-9]{3})-"
DATE_OR_DATETIME: dict[str, Any] = {
    "type": "string",
    "anyOf": [
        {"type": "string", "format": "date", "pattern": _YEARS},
        {"type": "string", "format": "date-time", "pattern": _YEARS},
        {"type": "string", "maxLength": 0},
    ],
}


def date_parameter(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, DATE_OR_DATETIME, description=description)


class LanguageFieldExtension(OpenApiSerializerFieldExtension):
    """A LanguageField is an enum of the languages this server speaks where it is used,
    read when the schema is generated (it follows TTS_ENGINES). A named component keeps
    the name stable in generated clients; case and `en_US`/`en-US` spellings are
    tolerated by the server and said so in the field's description."""

    target_class = "core.serializer_fields.LanguageField"

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        field = self.target
        component = ResolvedComponent(
            name=field.component,
            type=ResolvedComponent.SCHEMA,
            schema={"type": "string", "enum": list(dict.fromkeys(field.languages()))},
            object=field.component,
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


# ------------------------------------------------------------------ rules every body and parameter keeps

# Every text the server reads refuses NUL (PostgreSQL text cannot hold it; core/parsers.py
# for JSON bodies, core/middleware.py for query strings and forms), and every integer
# fits 64 bits (core/parsers.MAX_JSON_INT): rules of the whole API, so stated on every
# string and integer of the schema by `schema_states_every_rule` rather than field by field.
NO_NUL_PATTERN = r"^[^\u0000]*$"
# A string that may not be blank (`minLength: 1`: DRF's allow_blank=False, which trims)
# holds something besides whitespace. The class names Python's whitespace that ECMA-262's
# \s lacks (\x1c-\x1f, \x85), so that both sides agree on what is blank.
SOMETHING_PATTERN = r"^[^\u0000]*[^\s\u0000\u001c-\u001f\u0085][^\u0000]*$"
INT64_MAX = MAX_JSON_INT


_COMPONENT = "#/components/schemas/"


def _nodes(roots: list[Any], *, skip: tuple[str, ...], schemas: dict[str, Any] | None = None) -> Iterator[dict]:
    """Every object node under `roots`, without recursion; with `schemas`, a `$ref` is
    followed (each component once) instead of being yielded. A node's children are read
    after it has been yielded, so the caller may change the node as it goes."""
    stack, seen = list(roots), set()
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        ref = node.get("$ref")
        if schemas is not None and isinstance(ref, str) and ref.startswith(_COMPONENT):
            name = ref.removeprefix(_COMPONENT)
            if name not in seen and name in schemas:
                seen.add(name)
                stack.append(schemas[name])
            continue
        yield node
        stack.extend(value for key, value in node.items() if key not in skip)


def _state_rules(schema: Any) -> None:
    for node in _nodes([schema], skip=("example",)):
        kind = node.get("type")
        if kind == "string" and not ({"pattern", "enum", "format"} & node.keys()):
            node["pattern"] = SOMETHING_PATTERN if node.get("minLength", 0) >= 1 else NO_NUL_PATTERN
        elif kind == "integer":
            node.setdefault("minimum", -INT64_MAX)
            node.setdefault("maximum", INT64_MAX)


def schema_states_every_rule(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS): the API-wide rules on
    every string, integer and request body, so that a schema-valid request is never
    refused for a rule the schema does not state (docs/ARCHITECTURE.md, "The schema")."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    _state_rules(result.get("paths", {}))  # parameters and inline bodies
    _state_rules(schemas)
    _close_request_objects(result.get("paths", {}), schemas)
    return result


def _close_request_objects(paths: dict[str, Any], schemas: dict[str, Any]) -> None:
    """`additionalProperties: false` on every object a request body is made of, its own
    and those it holds, as the server refuses fields it does not take (core/serializers.py,
    and the compatibility routes that read by hand). Free-form maps (a job's
    `params`, a voice's `labels`) state their own `additionalProperties` and keep it."""
    bodies = [
        media.get("schema")
        for operation in (op for item in paths.values() for op in item.values() if isinstance(op, dict))
        for media in operation.get("requestBody", {}).get("content", {}).values()
    ]
    for node in _nodes(bodies, skip=("example", "examples", "additionalProperties"), schemas=schemas):
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
