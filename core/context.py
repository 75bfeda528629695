"""The request context: who is calling, from where, with which request id.

`RequestContextMiddleware` binds one `RequestContext` per request in a contextvar (first
in the chain, so every later layer sees it); authentication fills in the principal when
it resolves one. Services never take the HTTP request: the audit log and anything else
that wants "who did this" reads `current()` (docs/ARCHITECTURE.md, "Request context").
Outside a request (the engine worker, management commands) `current()` is an empty
context: no IP, no key, request id "-".
"""

from __future__ import annotations

import contextvars
import ipaddress
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse

from core.http import client_ip

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


@dataclass
class RequestContext:
    request_id: str = "-"
    client_ip: str | None = None
    user_agent: str = ""
    # Filled in by authentication: the signed-in user (session or API key's owner) and
    # the API key the request carries, if any.
    user: Any = None
    api_key: Any = None

    @property
    def authenticated_user(self) -> Any:
        user = self.user
        return user if user is not None and getattr(user, "is_authenticated", False) else None

    @property
    def api_key_prefix(self) -> str:
        return getattr(self.api_key, "prefix", "") or ""


_EMPTY = RequestContext()
_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("speaker_request", default=None)


def current() -> RequestContext:
    """This request's context, or an empty one outside requests."""
    return _current.get() or _EMPTY


def set_principal(*, user: Any = None, api_key: Any = None) -> None:
    """Authentication found who is calling (no-op outside a request)."""
    ctx = _current.get()
    if ctx is None:
        return
    if user is not None:
        ctx.user = user
    if api_key is not None:
        ctx.api_key = api_key


def _valid_ip(raw: str) -> str | None:
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def context_for(request: HttpRequest) -> RequestContext:
    incoming = request.headers.get("X-Request-ID", "")
    return RequestContext(
        request_id=incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex,
        client_ip=_valid_ip(client_ip(request)),
        user_agent=request.headers.get("User-Agent", "")[:512],
    )


class RequestContextMiddleware:
    """Binds the request context (and the X-Request-ID: taken from the caller when it is
    sane, else made here; echoed on the response and shown in every log line)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        ctx = context_for(request)
        request.request_id = ctx.request_id  # type: ignore[attr-defined]
        token = _current.set(ctx)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = ctx.request_id
        return response


class SessionPrincipalMiddleware:
    """After Django's AuthenticationMiddleware: the session's user (a lazy object, read
    only if something asks) is the caller unless an API key says otherwise."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        ctx = _current.get()
        if ctx is not None and ctx.user is None:
            ctx.user = getattr(request, "user", None)
        return self.get_response(request)
