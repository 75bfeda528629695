"""Who opens a websocket, decided at connect, and whether that credential still holds.

`WebsocketAuthMiddleware` puts `user` (and `api_key`) in the scope, or a `ws_refusal`
the consumer turns into a close with a code and a reason:
- an API key in `Authorization: Bearer` or `X-API-Key` headers (non-browser clients; no
  Origin needed -- browsers cannot set these headers, so a cross-site page cannot use it);
- else the session cookie, and then the Origin must be allowed (`realtime.origin`).
Keys never travel in query strings.

`credential_refusal` answers the re-check a long-lived socket makes: a socket lives no
longer than its credential (a revoked or expired key, a logged-out or expired session,
a deactivated user)."""

from __future__ import annotations

from datetime import datetime
from importlib import import_module
from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser

from accounts.authentication import raw_key_from_headers
from accounts.credentials import ACCOUNT_DISABLED, apikey_standing
from accounts.credentials import KEY_EXPIRED as KEY_HAS_EXPIRED
from accounts.credentials import KEY_REVOKED as KEY_WAS_REVOKED
from accounts.models import User
from accounts.services import apikey_authenticate
from realtime.origin import origin_allowed, scope_headers
from realtime.refusals import (
    BAD_KEY,
    FOREIGN_ORIGIN,
    KEY_EXPIRED,
    KEY_IN_URL,
    KEY_REVOKED,
    NOT_AUTHENTICATED,
    SESSION_ENDED,
    USER_INACTIVE,
    Refusal,
)

# Why an API key no longer holds (accounts.credentials, shared with every websocket
# protocol) -> how /ws/events/ closes for it.
_KEY_REFUSALS: dict[str, Refusal] = {
    KEY_WAS_REVOKED: KEY_REVOKED,
    ACCOUNT_DISABLED: USER_INACTIVE,
    KEY_HAS_EXPIRED: KEY_EXPIRED,
}


class _KeyHeaders:
    """Adapter so `raw_key_from_headers` reads ASGI headers case-insensitively."""

    def __init__(self, headers: dict[str, str]) -> None:
        self._headers = headers

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._headers.get(name.lower(), default)


@database_sync_to_async
def _authenticate_key(raw: str) -> Any:
    return apikey_authenticate(raw_key=raw)


def _key_in_query(scope: dict[str, Any]) -> bool:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return any(name.lower() in ("api_key", "apikey", "key", "token", "access_token") for name in query)


class WebsocketAuthMiddleware(BaseMiddleware):
    """Puts `user` (and `api_key`) in the scope, or a `ws_refusal` the consumer turns into
    a close with a code and a reason."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.cookie_path = AuthMiddlewareStack(inner)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        headers = scope_headers(scope)
        raw = raw_key_from_headers(_KeyHeaders(headers))
        if raw is None:
            if _key_in_query(scope):
                return await self.inner(dict(scope, user=AnonymousUser(), ws_refusal=KEY_IN_URL), receive, send)
            if not origin_allowed(scope):
                refusal = FOREIGN_ORIGIN if "origin" in headers else NOT_AUTHENTICATED
                return await self.inner(dict(scope, user=AnonymousUser(), ws_refusal=refusal), receive, send)
            return await self.cookie_path(scope, receive, send)
        api_key = await _authenticate_key(raw)
        scope = dict(scope)
        scope["user"] = api_key.user if api_key is not None else AnonymousUser()
        scope["api_key"] = api_key
        if api_key is None:
            scope["ws_refusal"] = BAD_KEY
        return await self.inner(scope, receive, send)


def credential_refusal(
    *, user_id: int, api_key_id: int | None, session_key: str | None
) -> tuple[Refusal | None, datetime | None]:
    """Why this socket's credential no longer holds (None while it does), and when it
    ends by itself (a key's expiry)."""
    if api_key_id is not None:
        why, expires_at = apikey_standing(api_key_id=api_key_id)
        return _KEY_REFUSALS.get(why) if why is not None else None, expires_at
    if not User.objects.filter(pk=user_id, is_active=True).exists():
        return USER_INACTIVE, None
    if session_key is not None:
        store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
        # load() answers {} for a session that is gone or past its expiry date.
        if str(store.load().get(SESSION_KEY, "")) != str(user_id):
            return SESSION_ENDED, None
    return None, None
