"""`/ws/events/`: the owner's job and voice events.

Authentication happens at connect, in `WebsocketAuthMiddleware`:
- an API key in `Authorization: Bearer` or `X-API-Key` headers (non-browser clients; no
  Origin needed — browsers cannot set these headers, so a cross-site page cannot use it);
- else the session cookie, and then the Origin must be one of ALLOWED_HOSTS (a cookie
  would otherwise let any site open the socket: cross-site websocket hijacking).
Keys never travel in query strings. Unauthenticated connections are closed.
"""

from __future__ import annotations

from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.middleware import BaseMiddleware
from channels.security.websocket import AllowedHostsOriginValidator
from django.contrib.auth.models import AnonymousUser

from synthesis.events import key_group, user_group


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


class _KeyHeaders:
    """Adapter so `raw_key_from_headers` reads ASGI headers case-insensitively."""

    def __init__(self, headers: dict[str, str]) -> None:
        self._headers = headers

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._headers.get(name.lower(), default)


@database_sync_to_async
def _authenticate_key(raw: str) -> Any:
    from accounts.services import apikey_authenticate

    return apikey_authenticate(raw_key=raw)


class WebsocketAuthMiddleware(BaseMiddleware):
    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.cookie_path = AllowedHostsOriginValidator(AuthMiddlewareStack(inner))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        from accounts.authentication import raw_key_from_headers

        raw = raw_key_from_headers(_KeyHeaders(_headers(scope)))
        if raw is None:
            return await self.cookie_path(scope, receive, send)
        api_key = await _authenticate_key(raw)
        scope = dict(scope)
        scope["user"] = api_key.user if api_key is not None else AnonymousUser()
        scope["api_key"] = api_key
        return await self.inner(scope, receive, send)


@database_sync_to_async
def _snapshot(user_id: int) -> dict[str, Any]:
    from synthesis.services import active_jobs_for, job_event_payload
    from voices.models import Voice

    return {
        "type": "snapshot",
        "jobs": [job_event_payload(job) for job in active_jobs_for(user_id)],
        "voices": [
            {"voice_id": str(v.pk), "status": v.status, "name": v.name} for v in Voice.objects.filter(owner_id=user_id, status="processing")
        ],
    }


class EventsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.groups_joined = [user_group(user.pk)]
        api_key = self.scope.get("api_key")
        if api_key is not None:
            self.groups_joined.append(key_group(api_key.pk))
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        # State first, then events: a reconnecting client never depends on a lost message.
        await self.send_json(await _snapshot(user.pk))

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "snapshot":
            await self.send_json(await _snapshot(self.scope["user"].pk))

    async def speaker_event(self, message: dict[str, Any]) -> None:
        await self.send_json({"type": message["event"], **message["payload"]})

    async def speaker_key_revoked(self, message: dict[str, Any]) -> None:
        await self.send_json({"type": "key.revoked"})
        await self.close(code=4403)
