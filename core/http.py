"""Small HTTP helpers shared by every layer."""

from __future__ import annotations

from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, which daphne sets from the socket. Behind a
    proxy, run daphne with --proxy-headers so it reflects X-Forwarded-For from the
    trusted proxy only (docs/operations.md "Deployment")."""
    return request.META.get("REMOTE_ADDR") or "unknown"
