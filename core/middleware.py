"""Cross-cutting HTTP middleware: the CSP header, NUL refusal, and the API error body for
responses Django produces itself (URL 404s, uncaught exceptions), each in the body of
the request's API family (core.api_families)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from core.api_families import error_response, family_for
from core.context import current

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
_CSP_DOCS = (
    _CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
        "style-src 'self'", "style-src 'self' 'unsafe-inline'"
    )
    + "; worker-src 'self' blob:"
)  # Redoc's search runs in a worker made from a blob: URL


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


def is_api_path(request: HttpRequest) -> bool:
    """Whether the request is an API family's (/api/, and the paths that the
    compatibility packages registered): its errors are JSON, never an HTML page."""
    return family_for(request) is not None


class ApiErrorMiddleware:
    """For an API family's request, turns responses that Django made without the view's
    own error body (no URL match, a 405 from a plain view, an uncaught exception) into
    the family's error body."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or response.get("Content-Type", "").startswith("application/json"):
            return response  # a success, or already an API body (DRF or a JsonResponse of a family's)
        headers = {k: v for k, v in response.items() if k in ("Allow", "Retry-After", "Content-Range")}
        return error_response(request, response.status_code, headers=headers) or response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api_path(request):
            return None
        if isinstance(exception, Http404):
            return error_response(request, 404)
        if isinstance(exception, PermissionDenied):
            return error_response(request, 403)
        logger.exception("Unhandled error on %s", request.path)
        return error_response(request, 500)


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
        response = error_response(
            request,
            400,
            message=message,
            field=name or None,
            details={name or "path": ["Must not contain NUL characters."]},
        )
        return response or HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


def _nul_parameter(request: HttpRequest) -> str | None:
    """The first query parameter name holding a NUL ("" for the path), else None."""
    if "\x00" in request.path:
        return ""
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            return name.replace("\x00", "\\x00") or "(unnamed)"
    return None
