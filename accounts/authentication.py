"""How callers prove who they are: an API key (`Authorization: Bearer spk_…`,
`X-API-Key: spk_…`, or the header an API family's clients send it in, registered with
core.api_families: `xi-api-key` for ElevenLabs'), or the dashboard's session cookie."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.models import APIKey
from accounts.services import apikey_authenticate
from core.api_families import api_key_headers
from core.context import set_principal

# The one public attribute for the key a request authenticated with (None: no key).
API_KEY_ATTR = "api_key"
_MISSING = object()


def raw_key_from_headers(headers: Any) -> str | None:
    """The key the caller sent, from `Authorization: Bearer`, `X-API-Key` or an API family's
    key header (core.api_families.api_key_headers), or None."""
    explicit = headers.get("X-API-Key") or next(filter(None, (headers.get(name) for name in api_key_headers())), None)
    if explicit:
        return explicit.strip()
    authorization = headers.get("Authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def authorization_hint(headers: Any) -> str | None:
    """When `Authorization` carries an API key in the wrong shape (no `Bearer`, or
    another scheme), the 401 says how to send it; None otherwise."""
    authorization = (headers.get("Authorization") or "").strip()
    if not authorization or headers.get("X-API-Key"):
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return None
    key = token.strip() if token.strip() else scheme
    if not key.startswith("spk_"):
        return None
    return (
        "The Authorization header must read 'Bearer <your key>': put the word Bearer and a space "
        "before the key (Authorization: Bearer spk_…), or send the key alone in the X-API-Key header."
    )


def api_key_for_request(request: HttpRequest) -> APIKey | None:
    """Resolve (once per request) the active API key the request carries, or None.
    Shared by the rate limiter, which runs before DRF, and the DRF authentication class."""
    django_request = getattr(request, "_request", request)
    cached = getattr(django_request, API_KEY_ATTR, _MISSING)
    if cached is not _MISSING:
        return cached
    raw = raw_key_from_headers(django_request.headers)
    api_key = apikey_authenticate(raw_key=raw) if raw else None
    setattr(django_request, API_KEY_ATTR, api_key)
    if api_key is not None:
        set_principal(user=api_key.user, api_key=api_key)
    return api_key


class APIKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, APIKey] | None:
        raw = raw_key_from_headers(request._request.headers)
        if raw is None:
            hint = authorization_hint(request._request.headers)
            if hint is not None:
                raise exceptions.AuthenticationFailed(hint)
            return None
        api_key = api_key_for_request(request)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked API key.")
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        # Present so that DRF answers 401 (not 403) to unauthenticated callers.
        return 'Bearer realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The dashboard's cookie session, with DRF's CSRF enforcement."""
