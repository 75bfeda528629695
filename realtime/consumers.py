"""`/ws/events/`: the owner's job and voice events.

Authentication happens at connect, in `WebsocketAuthMiddleware`:
- an API key in `Authorization: Bearer` or `X-API-Key` headers (non-browser clients; no
  Origin needed — browsers cannot set these headers, so a cross-site page cannot use it);
- else the session cookie, and then the Origin must be this server's own origin (scheme,
  host and port) or one of CSRF_TRUSTED_ORIGINS: a cookie would otherwise let any site —
  or another port of the same host — open the socket (cross-site websocket hijacking).
Keys never travel in query strings. A refused socket is accepted and closed at once with
a close code, a reason and an `error` message saying why (a bare HTTP 403 tells nothing).

A socket lives no longer than its credential: it closes when its key is revoked or
expires, when its session logs out or expires, or when its user is deactivated.

What a client can trust (docs/api.md "Live events"): the first message is a snapshot of its
active jobs; every later message carries `seq` (1, 2, … per socket). Events cross the
channel layer numbered per user (`useq`, see `core.events`): a number that has not
arrived one re-check period after it was handed out means the layer dropped a message,
and the socket is resynced (a snapshot with `"resync": true`, then the final events of
jobs that ended meanwhile). Independently, every `EVENTS_RECHECK_SECONDS` the consumer
re-reads from the database the jobs it has told its client are active and sends the final
event of any that ended, so a final event reaches every open socket of the owner within
two re-check periods even when its message was lost.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.http.request import split_domain_port, validate_host
from django.utils import timezone

from accounts.authentication import raw_key_from_headers
from accounts.models import APIKey, User
from accounts.services import apikey_authenticate
from core.events import (
    EVENT_SCOPES,
    FINAL_JOB_EVENTS,
    current_user_seq,
    key_group,
    session_group,
    user_group,
)
from synthesis.models import SynthesisJob
from synthesis.services import active_jobs_for, job_event_payload
from voices.models import Voice

logger = logging.getLogger("speaker.events")

CLOSE_UNAUTHENTICATED = 4401  # no valid credential (none, bad, expired, logged out): sign in again
CLOSE_FORBIDDEN = 4403  # the credential exists but may not open or keep this socket
# How far back a resync looks for jobs that ended while messages were lost: covers the
# time between a job's `finished_at` and its commit, and clock skew between hosts.
RESYNC_LOOKBACK = timedelta(seconds=60)
# A socket remembers which final events it sent (so a late original is not sent twice)
# for this long; older entries cannot matter to a resync any more.
FINALS_MEMORY_SECONDS = 600.0


@dataclass(frozen=True)
class Refusal:
    close_code: int
    code: str
    message: str

    def error(self) -> dict[str, Any]:
        return {
            "type": "error",
            "error": {"code": self.code, "message": self.message, "details": {"close_code": self.close_code}},
        }


NOT_AUTHENTICATED = Refusal(
    CLOSE_UNAUTHENTICATED,
    "not_authenticated",
    "Sign in to the dashboard, or send an API key in the Authorization: Bearer or X-API-Key header.",
)
KEY_IN_URL = Refusal(
    CLOSE_UNAUTHENTICATED,
    "not_authenticated",
    "API keys are not accepted in the URL (URLs end up in logs); send the key in the "
    "Authorization: Bearer or X-API-Key header.",
)
BAD_KEY = Refusal(CLOSE_UNAUTHENTICATED, "not_authenticated", "The API key is invalid, expired or revoked; use an active key.")
FOREIGN_ORIGIN = Refusal(
    CLOSE_FORBIDDEN,
    "origin_not_allowed",
    "A signed-in socket must come from this site's own origin (scheme, host and port) or one "
    "of CSRF_TRUSTED_ORIGINS; other clients authenticate with an API key header.",
)
KEY_EXPIRED = Refusal(CLOSE_UNAUTHENTICATED, "key_expired", "The API key expired; connect again with an active key.")
KEY_REVOKED = Refusal(CLOSE_FORBIDDEN, "key_revoked", "The API key was revoked.")
SESSION_ENDED = Refusal(CLOSE_UNAUTHENTICATED, "session_ended", "The session ended (signed out or expired); sign in again.")
USER_INACTIVE = Refusal(CLOSE_FORBIDDEN, "account_disabled", "This account is deactivated.")


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


class _KeyHeaders:
    """Adapter so `raw_key_from_headers` reads ASGI headers case-insensitively."""

    def __init__(self, headers: dict[str, str]) -> None:
        self._headers = headers

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._headers.get(name.lower(), default)


# --------------------------------------------------------------------------- origin

_DEFAULT_PORTS = {"http": 80, "https": 443}


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
    headers = _headers(scope)
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


# ---------------------------------------------------------------------- middleware


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
        raw = raw_key_from_headers(_KeyHeaders(_headers(scope)))
        if raw is None:
            if _key_in_query(scope):
                return await self.inner(dict(scope, user=AnonymousUser(), ws_refusal=KEY_IN_URL), receive, send)
            if not origin_allowed(scope):
                refusal = FOREIGN_ORIGIN if "origin" in _headers(scope) else NOT_AUTHENTICATED
                return await self.inner(dict(scope, user=AnonymousUser(), ws_refusal=refusal), receive, send)
            return await self.cookie_path(scope, receive, send)
        api_key = await _authenticate_key(raw)
        scope = dict(scope)
        scope["user"] = api_key.user if api_key is not None else AnonymousUser()
        scope["api_key"] = api_key
        if api_key is None:
            scope["ws_refusal"] = BAD_KEY
        return await self.inner(scope, receive, send)


# ---------------------------------------------------------------- database reads


def _final_event(payload: dict[str, Any]) -> dict[str, Any]:
    return {"type": FINAL_JOB_EVENTS[payload["status"]], **payload}


def _voice_snapshot(user_id: int) -> list[dict[str, Any]]:
    return [
        {"voice_id": str(v.pk), "status": v.status, "name": v.name}
        for v in Voice.objects.filter(owner_id=user_id, status="processing")
    ]


@dataclass
class _Resync:
    useq: int | None
    now: datetime
    jobs: list[dict[str, Any]]
    voices: list[dict[str, Any]]
    ended: list[dict[str, Any]] = field(default_factory=list)


@database_sync_to_async
def _read_resync(
    *, user_id: int, jobs: bool, voices: bool, tracked: list[str], since: datetime | None, sent: list[str]
) -> _Resync:
    useq = current_user_seq(user_id)  # before the reads: anything numbered after it is newer
    now = timezone.now()
    state = _Resync(
        useq=useq,
        now=now,
        jobs=[job_event_payload(job) for job in active_jobs_for(user_id)] if jobs else [],
        voices=_voice_snapshot(user_id) if voices else [],
    )
    if jobs and (tracked or since is not None):
        which = Q(pk__in=tracked)
        if since is not None:
            which |= Q(finished_at__gte=since - RESYNC_LOOKBACK)
        ended = (
            SynthesisJob.objects.filter(owner_id=user_id, status__in=list(FINAL_JOB_EVENTS))
            .filter(which)
            .exclude(pk__in=sent)
            .order_by("finished_at")
        )
        state.ended = [_final_event(job_event_payload(job)) for job in ended]
    return state


@dataclass
class _Check:
    refusal: Refusal | None = None
    deadline: datetime | None = None
    useq: int | None = None
    ended: list[dict[str, Any]] = field(default_factory=list)


def credential_refusal(*, user_id: int, api_key_id: int | None, session_key: str | None) -> tuple[Refusal | None, datetime | None]:
    """Why this socket's credential no longer holds (None while it does), and when it
    ends by itself (a key's expiry)."""
    if api_key_id is not None:
        key = APIKey.objects.filter(pk=api_key_id).values("revoked_at", "expires_at", "user__is_active").first()
        if key is None or key["revoked_at"] is not None:
            return KEY_REVOKED, None
        if not key["user__is_active"]:
            return USER_INACTIVE, None
        if key["expires_at"] is not None and key["expires_at"] <= timezone.now():
            return KEY_EXPIRED, None
        return None, key["expires_at"]
    if not User.objects.filter(pk=user_id, is_active=True).exists():
        return USER_INACTIVE, None
    if session_key is not None:
        store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
        # load() answers {} for a session that is gone or past its expiry date.
        if str(store.load().get(SESSION_KEY, "")) != str(user_id):
            return SESSION_ENDED, None
    return None, None


@database_sync_to_async
def _read_check(*, user_id: int, api_key_id: int | None, session_key: str | None, tracked: list[str]) -> _Check:
    refusal, deadline = credential_refusal(user_id=user_id, api_key_id=api_key_id, session_key=session_key)
    if refusal is not None:
        return _Check(refusal=refusal)
    check = _Check(deadline=deadline, useq=current_user_seq(user_id))
    if tracked:
        ended = SynthesisJob.objects.filter(pk__in=tracked, status__in=list(FINAL_JOB_EVENTS)).order_by("finished_at")
        check.ended = [_final_event(job_event_payload(job)) for job in ended]
    return check


# -------------------------------------------------------------------------- consumer


class EventsConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        refusal: Refusal | None = self.scope.get("ws_refusal")
        if refusal is None and (user is None or not user.is_authenticated):
            refusal = NOT_AUTHENTICATED
        if refusal is not None:
            # Accept first: only an open socket can say why it is being closed.
            await self.accept()
            await self._end(refusal, first=True)
            return
        api_key = self.scope.get("api_key")
        self.user_id: int = user.pk
        self.api_key_id: int | None = api_key.pk if api_key is not None else None
        self.session_key: str | None = None
        self.scopes: set[str] | None = set(api_key.scopes) if api_key is not None else None  # None: a session, all
        self.deadline: datetime | None = api_key.expires_at if api_key is not None else None
        self.groups_joined = [user_group(user.pk)]
        if api_key is not None:
            self.groups_joined.append(key_group(api_key.pk))
        elif self.scope.get("session") is not None and self.scope["session"].session_key:
            self.session_key = self.scope["session"].session_key
            self.groups_joined.append(session_group(self.session_key))
        self.out_seq = 0  # `seq` of the last message sent after the first snapshot
        self.seen_useq: int | None = None  # every event numbered up to this one arrived
        self.ahead: set[int] = set()  # numbers that arrived before a smaller one
        self.expected: int | None = None  # numbers handed out by the previous check
        self.active: set[str] = set()  # jobs this client was told are queued or running
        self.finals_sent: dict[str, float] = {}
        self.synced_at: datetime | None = None
        self.ended = False
        self.lock = asyncio.Lock()
        self.groups_refreshed = time.monotonic()
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        # State first, then events: a reconnecting client never depends on a lost message.
        async with self.lock:
            await self._resync(first=True)
        self.watcher = asyncio.ensure_future(self._watch())

    async def disconnect(self, code: int) -> None:
        watcher = getattr(self, "watcher", None)
        if watcher is not None:
            watcher.cancel()
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "snapshot" and not getattr(self, "ended", True):
            async with self.lock:
                await self._resync()

    # ----------------------------------------------------------------- sending

    def _hears(self, kind: str) -> bool:
        return self.scopes is None or EVENT_SCOPES.get(kind, "") in self.scopes

    async def _emit(self, message: dict[str, Any]) -> None:
        self.out_seq += 1
        await self.send_json({**message, "seq": self.out_seq})

    async def _emit_job(self, message: dict[str, Any]) -> None:
        """Relay a job event, keeping track of what the client believes."""
        job_id = message.get("job_id")
        if message["type"] in FINAL_JOB_EVENTS.values():
            if job_id in self.finals_sent:
                return  # the client has this job's final state already
            self.finals_sent[job_id] = time.monotonic()
            self.active.discard(job_id)
        elif job_id in self.finals_sent:
            return  # a late hint about a job the client knows has ended
        elif job_id:
            self.active.add(job_id)
        await self._emit(message)

    async def _resync(self, *, first: bool = False) -> None:
        state = await _read_resync(
            user_id=self.user_id,
            jobs=self._hears("job"),
            voices=self._hears("voice"),
            tracked=sorted(self.active),
            since=self.synced_at,
            sent=list(self.finals_sent),
        )
        snapshot = {"type": "snapshot", "jobs": state.jobs, "voices": state.voices}
        if first:
            await self.send_json(snapshot)  # message 0: `seq` counts the messages after it
        else:
            await self._emit({**snapshot, "resync": True})
        self.active = {job["job_id"] for job in state.jobs}
        for final in state.ended:
            await self._emit_job(final)
        self.synced_at = state.now
        if state.useq is not None:
            if self.seen_useq is not None and state.useq < self.seen_useq:
                self.ahead = set()  # the counter was reset: the old numbers mean nothing now
            self.seen_useq = state.useq  # the snapshot holds every event numbered up to here
            self.ahead = {n for n in self.ahead if n > state.useq}
            self._advance()
        self.expected = None

    def _advance(self) -> None:
        while self.seen_useq is not None and self.seen_useq + 1 in self.ahead:
            self.seen_useq += 1
            self.ahead.discard(self.seen_useq)

    async def _end(self, refusal: Refusal, *, first: bool = False) -> None:
        self.ended = True
        message = refusal.error()
        if first:
            await self.send_json(message)
        else:
            await self._emit(message)
        await self.close(code=refusal.close_code, reason=refusal.message[:120])

    # ------------------------------------------------------------ channel layer

    async def speaker_event(self, message: dict[str, Any]) -> None:
        if self.ended:
            return
        event: str = message["event"]
        useq = message.get("useq")
        async with self.lock:
            stale = False
            if useq is not None and self.seen_useq is not None:
                if useq <= self.seen_useq or useq in self.ahead:
                    stale = True  # its state was in a snapshot sent since it was numbered
                else:
                    self.ahead.add(useq)
                    self._advance()
            elif useq is not None:
                self.seen_useq = useq
            kind = event.split(".", 1)[0]
            if not self._hears(kind):
                return
            content = {"type": event, **message["payload"]}
            if kind == "job":
                if stale and event not in FINAL_JOB_EVENTS.values():
                    return
                await self._emit_job(content)
            elif not stale:
                await self._emit(content)

    async def speaker_key_revoked(self, message: dict[str, Any]) -> None:
        self.ended = True
        await self._emit({"type": "key.revoked"})
        await self.close(code=CLOSE_FORBIDDEN, reason=KEY_REVOKED.message)

    async def speaker_credential_ended(self, message: dict[str, Any]) -> None:
        if self.ended:
            return
        refusal = USER_INACTIVE if message.get("code") == CLOSE_FORBIDDEN else SESSION_ENDED
        await self._end(refusal)

    # --------------------------------------------------------------- re-checks

    def _wait(self) -> float:
        wait = settings.EVENTS_RECHECK_SECONDS
        if self.deadline is not None:
            wait = min(wait, max(0.05, (self.deadline - timezone.now()).total_seconds()))
        return wait

    async def _watch(self) -> None:
        # Spread the sockets' re-checks so that a hundred of them do not query at once.
        await asyncio.sleep(min(random.uniform(0, settings.EVENTS_RECHECK_SECONDS), self._wait()))
        while not self.ended:
            try:
                await self.recheck()
            except asyncio.CancelledError:
                raise
            except Exception:  # e.g. the database restarting: the next period tries again
                logger.exception("the re-check of a websocket failed")
            await asyncio.sleep(self._wait())

    async def recheck(self) -> None:
        """One re-check: the credential, the final state of the jobs the client believes
        active, and whether a numbered event failed to arrive."""
        async with self.lock:
            if self.ended:
                return
            check = await _read_check(
                user_id=self.user_id, api_key_id=self.api_key_id, session_key=self.session_key, tracked=sorted(self.active)
            )
            if check.refusal is not None:
                await self._end(check.refusal)
                return
            self.deadline = check.deadline
            for final in check.ended:
                await self._emit_job(final)
            if self._lost(check.useq):
                logger.info("events for user %s were lost on the channel layer; resyncing a socket", self.user_id)
                await self._resync()
            else:
                self.expected = max([n for n in (check.useq, *self.ahead) if n is not None], default=None)
            cutoff = time.monotonic() - FINALS_MEMORY_SECONDS
            self.finals_sent = {job: at for job, at in self.finals_sent.items() if at > cutoff}
        if time.monotonic() - self.groups_refreshed > settings.CHANNEL_GROUP_EXPIRY / 2:
            # Group membership expires on the layer (a day): a long-lived socket renews it.
            self.groups_refreshed = time.monotonic()
            for group in self.groups_joined:
                await self.channel_layer.group_add(group, self.channel_name)

    def _lost(self, useq: int | None) -> bool:
        if useq is None or self.seen_useq is None:
            return False
        if useq < self.seen_useq:
            return True  # the counter was reset (Redis flushed): start again from a snapshot
        # A number handed out before the previous check has had a whole period to arrive.
        return self.expected is not None and self.seen_useq < self.expected
