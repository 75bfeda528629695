"""Cross-cutting HTTP middleware: the CSP header, NUL refusal, and the API error body for
responses Django produces itself (URL 404s, uncaught exceptions)."""

from __future__ import annotations

import logging
import re
from typing import Callable

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from core.context import current
from core.errors import json_error
from core.openai_errors import openai_error

logger = logging.getLogger("speaker.request")

class RequestIDLogFilter(logging.Filter):
    """Puts the request id of the current request context on every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current().request_id
        return True


# The docs pages (Swagger UI / Redoc from drf-spectacular) render small inline scripts.
_DOCS_PATHS = ("/docs", "/redoc")
_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "style-src 'self'; script-src 'self'; connect-src 'self' ws: wss: blob:; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
)
_CSP_DOCS = _CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
) + "; worker-src 'self' blob:"  # Redoc's search runs in a worker made from a blob: URL


class ContentSecurityPolicyMiddleware:
    """Adds a Content-Security-Policy to HTML pages (Django 5.2 has no built-in CSP)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html") and "Content-Security-Policy" not in response:
            is_docs = request.path.startswith(_DOCS_PATHS) or request.path.startswith("/admin/")
            response["Content-Security-Policy"] = _CSP_DOCS if is_docs else _CSP
        return response


def is_api_path(path: str) -> bool:
    return path.startswith("/api/")


class ApiErrorMiddleware:
    """Under /api/, turns responses that Django made without DRF (no URL match, a 405 from
    a plain view, an uncaught exception) into the one error body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not is_api_path(request.path) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response  # already an API body (DRF or a JsonResponse of ours)
        headers = {k: v for k, v in response.items() if k in ("Allow", "Retry-After")}
        return json_error(response.status_code, headers=headers)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api_path(request.path):
            return None

        if isinstance(exception, Http404):
            return json_error(404)
        if isinstance(exception, PermissionDenied):
            return json_error(403)
        logger.exception("Unhandled error on %s", request.path)
        return json_error(500)


class RejectNulMiddleware:
    """A NUL character in the path or a query parameter is a 400 for every page and
    endpoint: PostgreSQL text cannot hold NUL, so a `?q=%00` reaching a filter would
    raise DataError (a 500) there, and SQLite would silently differ. Request bodies are
    checked where they are parsed (`core.parsers`, DRF's CharField)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = _nul_parameter(request)
        if name is None:
            return self.get_response(request)
        message = (
            f"The query parameter {name!r} contains a NUL character (%00); remove it."
            if name
            else "The URL path contains a NUL character (%00); remove it."
        )
        if request.path.startswith("/v1/"):

            return openai_error(400, message, "invalid_value", name or None)
        if is_api_path(request.path):
            return json_error(400, message=message, details={name or "path": ["Must not contain NUL characters."]})
        return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


def _nul_parameter(request: HttpRequest) -> str | None:
    """The first query parameter name holding a NUL ("" for the path), else None."""
    if "\x00" in request.path:
        return ""
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            return name.replace("\x00", "\\x00") or "(unnamed)"
    return None
