"""OpenAI-shaped error bodies (`{"error": {"message", "type", "param", "code"}}`) for the
OpenAI-compatible routes, so that the official `openai` client raises its usual typed
errors; registered as the `openai` family (core.api_families) for the errors that are
answered before a view (URL 404s, NUL refusals, rate limits)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpResponse, JsonResponse

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    409: "invalid_request_error",
    429: "rate_limit_error",
    503: "server_error",
    500: "server_error",
}
# Speaker's codes (core.errors.CODES_BY_STATUS) in OpenAI's words, where OpenAI has one.
_CODES = {
    "validation_error": "invalid_value",
    "not_authenticated": "invalid_api_key",
    "rate_limited": "rate_limit_exceeded",
    "not_found": "not_found",
}


def openai_error(
    status: int,
    message: str,
    code: str | None = None,
    param: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> JsonResponse:
    error_type = _TYPES.get(status, "invalid_request_error")
    body = {"error": {"message": message, "type": error_type, "param": param, "code": code}}
    response = JsonResponse(body, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def render(
    *, status: int, code: str, message: str, field: str | None, details: Mapping[str, Any], headers: Mapping[str, str]
) -> HttpResponse:
    """The `openai` family's renderer (core.api_families.ErrorRenderer)."""
    return openai_error(status, message, _CODES.get(code, code), field, headers=headers)
