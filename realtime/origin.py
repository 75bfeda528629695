"""Whether a websocket handshake comes from this site's own origin (or a trusted one).

A browser sends its session cookie with any websocket handshake, whichever page opens
it: a socket authenticated by the cookie must therefore come from this server's own
origin (scheme, host and port) or one of CSRF_TRUSTED_ORIGINS, or any site -- or another
port of the same host -- could open it (cross-site websocket hijacking)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host

_DEFAULT_PORTS = {"http": 80, "https": 443}


def scope_headers(scope: dict[str, Any]) -> dict[str, str]:
    """An ASGI scope's headers by lower-case name."""
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _origin_tuple(origin: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(origin.strip())
        scheme, host, port = parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    except ValueError:  # a port that is not a number
        return None
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    return scheme, host, port if port is not None else _DEFAULT_PORTS[scheme]


def _own_origin(scope: dict[str, Any], headers: dict[str, str]) -> tuple[str, str, int] | None:
    """This server's origin as the browser sees it: the scheme (wss, or TLS terminated by
    the proxy per SECURE_PROXY_SSL_HEADER) and the Host the socket was opened on, when
    that host is one of ALLOWED_HOSTS."""
    secure = scope.get("scheme") in ("wss", "https")
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        name = proxy[0].removeprefix("HTTP_").replace("_", "-").lower()
        secure = secure or headers.get(name, "").split(",")[0].strip() == proxy[1]
    host = headers.get("x-forwarded-host", "").split(",")[0].strip() if settings.USE_X_FORWARDED_HOST else ""
    host = host or headers.get("host", "")
    if not host and scope.get("server"):
        server_host, server_port = scope["server"]
        host = f"{server_host}:{server_port}"
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    return _origin_tuple(f"{'https' if secure else 'http'}://{host}")


def origin_allowed(scope: dict[str, Any]) -> bool:
    """Scheme, host and port must all match (an origin is not just a host name)."""
    headers = scope_headers(scope)
    origin = _origin_tuple(headers.get("origin", ""))
    if origin is None:
        return False
    if origin == _own_origin(scope, headers):
        return True
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        wildcard = "://*." in trusted
        wanted = _origin_tuple(trusted.replace("://*.", "://", 1))
        if wanted is None or (origin[0], origin[2]) != (wanted[0], wanted[2]):
            continue
        if origin[1] == wanted[1] or (wildcard and origin[1].endswith("." + wanted[1])):
            return True
    return False
