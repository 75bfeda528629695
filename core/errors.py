"""Speaker's error body: `{"error": {"code": "...", "message": "...", "details": {...}}}`,
and what an exception means as an error (`exception_error`: status, code, message,
details, headers) for every API family.

Every error under /api/ goes through here: DRF exceptions via
`core.api_families.api_exception_handler`, Django's own 404/405/500 via
`core.middleware.ApiErrorMiddleware`; other families render the same parts in their
own body (core.api_families).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.response import Response

from speech.engines import base as engine_base
from speech.engines.base import InvalidText, UnsupportedLanguage

logger = logging.getLogger("speaker.errors")

CODES_BY_STATUS: dict[int, str] = {
    400: "validation_error",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    422: "unprocessable",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}

DEFAULT_MESSAGES: dict[int, str] = {
    400: "The request is invalid.",
    401: "Authentication credentials were not provided or are invalid.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    405: "Method not allowed.",
    409: "The request conflicts with the current state of the resource.",
    413: "The request body is too large.",
    415: "Unsupported media type.",
    429: "Too many requests.",
    500: "Internal server error.",
    503: "The service is busy; try again shortly.",
}


def error_body(code: str, message: str, details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": dict(details or {})}}


class ApiError(drf.APIException):
    """An error with an explicit code, message and details, raised from services or views."""

    status_code = 400
    code = "validation_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: Mapping[str, Any] | None = None,
        status_code: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail=message)
        self.message = message
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        self.details = dict(details or {})
        self.headers = dict(headers or {})


class Conflict(ApiError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(ApiError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMedia(ApiError):
    status_code = 415
    code = "unsupported_media_type"


class Unprocessable(ApiError):
    status_code = 422
    code = "unprocessable"


class ServiceUnavailable(ApiError):
    status_code = 503
    code = "service_unavailable"


def json_error(
    status_code: int,
    *,
    code: str | None = None,
    message: str | None = None,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JsonResponse:
    response = JsonResponse(
        error_body(
            code or CODES_BY_STATUS.get(status_code, "error"),
            message or DEFAULT_MESSAGES.get(status_code, "Error."),
            details,
        ),
        status=status_code,
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _validation_details(detail: Any) -> dict[str, Any]:
    """Flatten DRF's nested ValidationError detail into {field: [messages]}."""
    if isinstance(detail, dict):
        return {key: _as_messages(value) for key, value in detail.items()}
    return {"non_field_errors": _as_messages(detail)}


def _as_messages(value: Any) -> Any:
    if isinstance(value, list):
        return [_as_messages(v) if isinstance(v, (dict, list)) else str(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_messages(v) for k, v in value.items()}
    return [str(value)]


def _field_messages(value: Any, path: str) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [
            pair
            for key, inner in value.items()
            for pair in _field_messages(inner, f"{path}.{key}" if path else str(key))
        ]
    if isinstance(value, list):
        return [pair for inner in value for pair in _field_messages(inner, path)]
    return [(path, str(value))]


def validation_message(details: Mapping[str, Any]) -> str:
    """The `message` of a validation error says what is wrong, field by field (the first
    problem of each), so a client that shows only the message still tells its user."""
    parts: list[str] = []
    seen: set[str] = set()
    for field, value in details.items():
        for path, text in _field_messages(value, "" if field == "non_field_errors" else str(field)):
            if path in seen:
                continue
            seen.add(path)
            parts.append(f"{path}: {text}" if path else text)
    return " ".join(p if p.endswith((".", "?", "!")) else f"{p}." for p in parts) or "Invalid input."


@dataclass(frozen=True)
class ErrorParts:
    status: int
    code: str
    message: str
    details: dict[str, Any]
    headers: dict[str, str]


def exception_error(exc: Exception, context: Mapping[str, Any]) -> ErrorParts:
    """What a DRF view's exception means as an error, in Speaker's codes."""
    headers: dict[str, str] = {}
    if isinstance(exc, ApiError):
        status_code, code, message, details = exc.status_code, exc.code, exc.message, exc.details
        headers.update(exc.headers)
    elif isinstance(exc, drf.ValidationError):
        status_code, code = 400, "validation_error"
        details = _validation_details(exc.detail)
        message = validation_message(details)
    elif isinstance(exc, drf.ParseError):
        status_code, code, message, details = 400, "validation_error", str(exc.detail), {}
    elif isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
        status_code, code, message, details = 401, "not_authenticated", str(exc.detail), {}
    elif isinstance(exc, (drf.PermissionDenied, DjangoPermissionDenied)):
        status_code, code, details = 403, "permission_denied", {}
        message = str(getattr(exc, "detail", "") or DEFAULT_MESSAGES[403])
    elif isinstance(exc, (drf.NotFound, Http404)):
        status_code, code, message, details = 404, "not_found", "Not found.", {}
    elif isinstance(exc, drf.MethodNotAllowed):
        status_code, code, message, details = 405, "method_not_allowed", str(exc.detail), {}
    elif isinstance(exc, drf.UnsupportedMediaType):
        status_code, code, message, details = 415, "unsupported_media_type", str(exc.detail), {}
    elif isinstance(exc, drf.NotAcceptable):
        status_code, code, message, details = 406, "not_acceptable", str(exc.detail), {}
    elif isinstance(exc, drf.Throttled):
        wait = int(exc.wait or 1)
        status_code, code, message, details = 429, "rate_limited", "Too many requests.", {"retry_after": wait}
        headers["Retry-After"] = str(wait)
    elif isinstance(exc, RequestDataTooBig):
        status_code, code, message, details = 413, "payload_too_large", "The request body is too large.", {}
    elif _is_engine_error(exc, "EngineUnavailable"):
        status_code, code, message, details = 409, "conflict", exc.message, {"reason": exc.code}
    elif _is_engine_error(exc, "EngineError"):
        status_code, code, message = 400, "validation_error", exc.message
        field = getattr(exc, "field", None) or _engine_error_field(exc)
        details = {field: [exc.message]} if field else {"reason": exc.code}
        # Markup that cannot be read says where (speech.markup.MarkupError's line, column).
        details.update({k: v for k, v in exc.details.items() if k in ("line", "column")})
    elif isinstance(exc, drf.APIException):
        status_code = exc.status_code
        code = CODES_BY_STATUS.get(status_code, "error")
        message, details = str(exc.detail), {}
    else:
        request = context.get("request")
        logger.exception("Unhandled API error on %s", getattr(request, "path", "?"))
        status_code, code, message, details = 500, "internal_error", DEFAULT_MESSAGES[500], {}
    return ErrorParts(status=status_code, code=code, message=message, details=dict(details), headers=headers)


def error_drf_response(parts: ErrorParts) -> Response:
    """Speaker's body as a DRF Response (negotiated like the view's other answers)."""
    return Response(error_body(parts.code, parts.message, parts.details), status=parts.status, headers=parts.headers)


def _is_engine_error(exc: Exception, name: str) -> bool:
    return isinstance(exc, getattr(engine_base, name))


def _engine_error_field(exc: Exception) -> str | None:
    if isinstance(exc, InvalidText):
        return "text"
    if isinstance(exc, UnsupportedLanguage):
        return "language"
    return None
