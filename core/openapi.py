"""Shared OpenAPI pieces: the one error body, referenced by every endpoint's responses,
the errors every endpoint can answer, and the date filters' schema."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

from core.parsers import MAX_JSON_DEPTH, MAX_JSON_INT

ErrorBody = inline_serializer(
    name="ErrorBody",
    fields={
        "error": inline_serializer(
            name="ErrorDetail",
            fields={
                "code": serializers.CharField(
                    help_text="validation_error, not_authenticated, permission_denied, not_found, "
                    "method_not_allowed, conflict, payload_too_large, unsupported_media_type, unprocessable, "
                    "rate_limited, quota_exceeded, service_unavailable, internal_error"
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
INT64_MAX = MAX_JSON_INT
# Unknown properties of a JSON body are ignored, but read like the rest of the body: any
# JSON value without NUL and without integers beyond 64 bits (core/parsers.py). One
# component per level, UNKNOWN_VALUE_LEVELS deep, whose last level holds any JSON: a
# self-referencing component cannot be parsed by generated clients
# (openapi-python-client), and deeper chains make code Python refuses to compile ("too
# many statically nested blocks"). What the levels cannot reach -- values deeper than
# UNKNOWN_VALUE_LEVELS, the MAX_JSON_DEPTH bound, NUL in keys (OpenAPI 3.0 has no
# `propertyNames`) -- the description says.
UNKNOWN_VALUE_LEVELS = 6
assert UNKNOWN_VALUE_LEVELS < MAX_JSON_DEPTH
JSON_VALUE_NAME = "JsonValue"


def _json_value_levels() -> dict[str, dict[str, Any]]:
    names = [JSON_VALUE_NAME] + [f"{JSON_VALUE_NAME}{level}" for level in range(2, UNKNOWN_VALUE_LEVELS + 1)]
    components = {}
    for index, name in enumerate(names):
        options: list[dict[str, Any]] = [
            {"type": "string", "pattern": NO_NUL_PATTERN},
            {"type": "integer", "minimum": -INT64_MAX, "maximum": INT64_MAX},
            {"type": "number", "not": {"type": "integer"}},
            {"type": "boolean"},
        ]
        # The last level's containers hold anything: the schema does not cut the depth
        # short of the reader's (a deeper value is still read by the same rules).
        inner = {"$ref": f"#/components/schemas/{names[index + 1]}"} if index + 1 < len(names) else {}
        options += [{"type": "array", "items": inner}, {"type": "object", "additionalProperties": inner}]
        components[name] = {
            "description": "Any JSON value the server's JSON reader accepts: no NUL character in any string or "
            f"key, integers within 64 bits, at most {MAX_JSON_DEPTH} levels counting the body.",
            "nullable": True,
            "anyOf": options,
        }
    return components


def _state_rules(schema: Any) -> None:
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        kind = node.get("type")
        if kind == "string" and not ({"pattern", "enum", "format"} & node.keys()):
            node["pattern"] = NO_NUL_PATTERN
        elif kind == "integer":
            node.setdefault("minimum", -INT64_MAX)
            node.setdefault("maximum", INT64_MAX)
        stack.extend(value for key, value in node.items() if key != "example")


def schema_states_every_rule(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS): the API-wide rules on
    every string, integer and request body, so that a schema-valid request is never
    refused for a rule the schema does not state (docs/ARCHITECTURE.md, "The schema")."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    json_bodies: set[str] = set()
    form_bodies: set[str] = set()
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
                name = content.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
                (json_bodies if media_type == "application/json" else form_bodies).add(name)
    # A component shared with a form body keeps its unknown properties undescribed:
    # openapi-python-client writes code that does not compile for a typed form field.
    for name in sorted(json_bodies - form_bodies):
        if name in schemas:
            schemas[name].setdefault("additionalProperties", {"$ref": f"#/components/schemas/{JSON_VALUE_NAME}"})
    _state_rules(result.get("paths", {}))  # parameters and inline bodies
    _state_rules(schemas)
    schemas.update(_json_value_levels())
    return result
