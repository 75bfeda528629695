"""Which API family a request belongs to, and so which error body it gets: chosen here,
in one place, for everything that answers a request before (or instead of) its view --
URL 404s, 405s from plain views, uncaught exceptions, NUL refusals, rate limits.

Speaker's own family (`/api/`, `{"error": {"code", "message", "details"}}`, core.errors)
is built in. A compatibility surface (an API package in the top layer) registers its
family when its app is ready: the paths it answers for, the header its clients send the
API key in, and a renderer that writes its vendor's error body. Core names no vendor;
see docs/ARCHITECTURE.md "Error bodies".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any, Protocol

from django.http import HttpRequest, HttpResponse
from rest_framework.response import Response

from core.errors import CODES_BY_STATUS, DEFAULT_MESSAGES, error_drf_response, exception_error, json_error


class ErrorRenderer(Protocol):
    def __call__(
        self,
        *,
        status: int,
        code: str,
        message: str,
        field: str | None,
        details: Mapping[str, Any],
        headers: Mapping[str, str],
    ) -> HttpResponse:
        """A family's error body. `code` is Speaker's (core.errors.CODES_BY_STATUS: a
        renderer maps it to its vendor's word), `field` the parameter at fault if any."""
        ...


@dataclass(frozen=True)
class ApiFamily:
    """An API family: `prefixes` are the paths it answers for (the longest match among
    all families wins); a request carrying `key_header` is this family's anywhere under
    `key_header_prefixes`, even where another family owns the path (a shared route)."""

    name: str
    prefixes: tuple[str, ...]
    render: ErrorRenderer
    key_header: str | None = None
    key_header_prefixes: tuple[str, ...] = ()

    def error(
        self,
        status: int,
        *,
        message: str | None = None,
        code: str | None = None,
        field: str | None = None,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> HttpResponse:
        """This family's error body; Speaker's default code and message for `status` unless given."""
        return self.render(
            status=status,
            code=code or CODES_BY_STATUS.get(status, "error"),
            message=message or DEFAULT_MESSAGES.get(status, "Error."),
            field=field,
            details=dict(details or {}),
            headers=dict(headers or {}),
        )


def _speaker_render(
    *, status: int, code: str, message: str, field: str | None, details: Mapping[str, Any], headers: Mapping[str, str]
) -> HttpResponse:
    if field and not details:
        details = {field: [message]}
    return json_error(status, code=code, message=message, details=details, headers=headers)


SPEAKER = ApiFamily(name="speaker", prefixes=("/api/",), render=_speaker_render)

_families: dict[str, ApiFamily] = {SPEAKER.name: SPEAKER}


def family_register(family: ApiFamily) -> None:
    """Called from an API package's AppConfig.ready(); registering a name again replaces it."""
    _families[family.name] = family


def families() -> tuple[ApiFamily, ...]:
    return tuple(_families.values())


def api_key_headers() -> tuple[str, ...]:
    """The headers the registered families' clients send an API key in."""
    return tuple(f.key_header for f in _families.values() if f.key_header)


def family_for(request: HttpRequest) -> ApiFamily | None:
    """The request's family, or None for a page that is no API's (the dashboard, docs)."""
    path = request.path
    best: tuple[int, int, ApiFamily] | None = None
    for family in _families.values():
        for prefix in family.prefixes:
            if path.startswith(prefix) and (best is None or (len(prefix), 0) > best[:2]):
                best = (len(prefix), 0, family)
        if family.key_header and request.headers.get(family.key_header):
            for prefix in family.key_header_prefixes:
                if path.startswith(prefix) and (best is None or (len(prefix), 1) > best[:2]):
                    best = (len(prefix), 1, family)
    return best[2] if best is not None else None


def error_response(request: HttpRequest, status: int, **error: Any) -> HttpResponse | None:
    """The error (ApiFamily.error's arguments) in the body of the request's family; None
    when the request is no API's."""
    family = family_for(request)
    return family.error(status, **error) if family is not None else None


def api_exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | HttpResponse:
    """DRF's EXCEPTION_HANDLER: a DRF view's exception as an error in the body of the
    request's family (Speaker's for /api/ and for a request that is no API's)."""
    parts = exception_error(exc, context)
    request = context.get("request")
    family = family_for(request) if request is not None else None
    if family is None or family is SPEAKER:
        return error_drf_response(parts)
    return family.error(
        parts.status, code=parts.code, message=parts.message, details=parts.details, headers=parts.headers
    )


View = Callable[..., HttpResponse]


def by_family(default: View, **views: View) -> View:
    """One route shared by several families (GET /v1/models): the view of the request's
    family, `default` for the others. The result carries `default`'s attributes (its
    class, for the OpenAPI generator)."""

    @wraps(default)
    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        family = family_for(request)
        chosen = views.get(family.name, default) if family is not None else default
        return chosen(request, *args, **kwargs)

    return view
