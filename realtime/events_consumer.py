"""`/ws/events/`: the owner's job and voice events.

Who may open it is decided before the consumer runs (`realtime.auth`); a refused socket
is accepted and closed at once with a close code, a reason and an `error` message saying
why (`realtime.refusals`). A socket lives no longer than its credential: it closes when
its key is revoked or expires, when its session logs out or expires, or when its user is
deactivated.

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
from datetime import datetime
from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from core.events import EVENT_SCOPES, FINAL_JOB_EVENTS, key_group, session_group, user_group
from core.parsers import InvalidJSON, loads_request_json
from realtime.refusals import (
    CLOSE_FORBIDDEN,
    KEY_REVOKED,
    NOT_AUTHENTICATED,
    SESSION_ENDED,
    USER_INACTIVE,
    Refusal,
    bad_message,
)
from realtime.selectors import events_check_read, events_resync_read

logger = logging.getLogger("speaker.events")

# A socket remembers which final events it sent (so a late original is not sent twice)
# for this long; older entries cannot matter to a resync any more.
FINALS_MEMORY_SECONDS = 600.0


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

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        """Frames from outside are read by the one JSON reader (core.parsers): a frame nested
        too deep, holding NUL or lone surrogates, or binary, ends the socket with a reason
        instead of an exception in the consumer."""
        if getattr(self, "ended", True):
            return
        if text_data is None:
            await self._end(bad_message("send JSON text frames, not binary ones."))
            return
        try:
            content = loads_request_json(text_data)
        except InvalidJSON as exc:
            await self._end(bad_message(str(exc)))
            return
        await self.receive_json(content, **kwargs)

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
        state = await events_resync_read(
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
        await self.close(code=refusal.close_code, reason=refusal.reason)

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
            check = await events_check_read(
                user_id=self.user_id,
                api_key_id=self.api_key_id,
                session_key=self.session_key,
                tracked=sorted(self.active),
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
