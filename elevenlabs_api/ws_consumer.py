"""ElevenLabs' text-to-speech websockets on Speaker's server (docs/voice-agents.md):
`/v1/text-to-speech/{voice_id}/stream-input` (one context) and
`/v1/text-to-speech/{voice_id}/multi-stream-input` (up to five contexts per socket).

The consumer reads messages (elevenlabs_api.ws_protocol), keeps each context's text
buffer and hands every piece of text that is ready to a generation
(elevenlabs_api.ws_services: one stream job each), sending its audio messages as they
come. A context's pieces are spoken one after another (its audio is in text order);
contexts run side by side. A mistake or a refusal is sent as ElevenLabs' error message,
then the socket closes with a code and a reason. A dropped socket cancels the jobs it
was generating."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from core.daphne_compat import unsent_bytes
from core.events import key_group
from elevenlabs_api.ws_protocol import (
    CLOSE_INTERNAL,
    CLOSE_INVALID_PAYLOAD,
    CLOSE_NORMAL,
    CLOSE_UNAUTHENTICATED,
    CLOSE_UNSUPPORTED,
    DEFAULT_SCHEDULE,
    MAX_CONTEXTS,
    ClientMessage,
    ProtocolError,
    SocketOptions,
    TextBuffer,
    client_message,
    socket_options,
)
from elevenlabs_api.ws_services import (
    Generation,
    final_message,
    generation_admit,
    generation_messages,
    key_ended_refusal,
    socket_authenticate,
    socket_standing,
)

logger = logging.getLogger("speaker.elevenlabs")

# A socket takes at most this many times MAX_TEXT_LENGTH characters of text over its life
# (50,000 with the default: about an hour of speech), each context twice MAX_TEXT_LENGTH
# (the raw text's limit of a job: synthesis.services.job_validate).
SOCKET_TEXT_FACTOR = 25

_END = None  # queued after a context's last piece: send isFinal


@dataclass
class Context:
    context_id: str
    params: dict[str, Any]
    buffer: TextBuffer
    dictionaries: tuple[tuple[str, str | None], ...] | None = None
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    task: asyncio.Task | None = None
    characters: int = 0  # text received, for the per-context cap
    busy: bool = False  # a generation is running
    ended: bool = False  # its last piece is queued: no more text


def _header_key(scope: dict[str, Any]) -> str | None:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    explicit = headers.get("xi-api-key") or headers.get("x-api-key")
    if explicit:
        return explicit.strip()
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


class TextToSpeechSocket(AsyncWebsocketConsumer):
    multi = False

    async def connect(self) -> None:
        self.voice_id: str = self.scope["url_route"]["kwargs"]["voice_id"]
        self.api_key: Any = None
        self.contexts: dict[str, Context] = {}
        self.closed_ids: set[str] = set()
        self.characters = 0
        self.ended = False
        self.last_activity = time.monotonic()
        self.watchers: list[asyncio.Task] = []
        self.groups_joined: list[str] = []
        # Accept first: only an open socket can say why it is being closed.
        await self.accept()
        try:
            self.options: SocketOptions = socket_options(self.scope.get("query_string", b""))
            raw = _header_key(self.scope)
            if raw is not None:
                await self._authenticate(raw)
        except ProtocolError as exc:
            await self._fail(exc)
            return
        self.watchers.append(asyncio.ensure_future(self._watch_inactivity()))

    async def _authenticate(self, raw: str) -> None:
        self.api_key = await socket_authenticate(raw_key=raw, voice_id=self.voice_id)
        if self.channel_layer is not None:
            group = key_group(self.api_key.pk)
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.append(group)
        self.watchers.append(asyncio.ensure_future(self._watch_credential()))

    async def disconnect(self, code: int) -> None:
        self.ended = True
        for task in [*self.watchers, *(c.task for c in self.contexts.values() if c.task is not None)]:
            task.cancel()
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    # ----------------------------------------------------------------- receiving

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.ended:
            return
        self.last_activity = time.monotonic()
        try:
            if text_data is None:
                raise ProtocolError(
                    "Binary frames are not accepted: send JSON text messages.", "invalid_message", CLOSE_UNSUPPORTED
                )
            try:
                content = json.loads(text_data)
            except ValueError as exc:
                raise ProtocolError(
                    f"The message is not valid JSON: {exc}.", "invalid_message", CLOSE_INVALID_PAYLOAD
                ) from exc
            message = client_message(content, multi=self.multi)
            if self.api_key is None:
                if message.key is None:
                    raise ProtocolError(
                        "No API key: send your Speaker API key in the xi-api-key header, or as xi_api_key "
                        "(or authorization: Bearer …) in the first message.",
                        "needs_authorization",
                        CLOSE_UNAUTHENTICATED,
                    )
                await self._authenticate(message.key)
            await self._handle(message)
        except ProtocolError as exc:
            await self._fail(exc)

    async def _handle(self, message: ClientMessage) -> None:
        if message.close_socket:
            await self._finish(CLOSE_NORMAL, "close_socket")
            return
        context = self.contexts.get(message.context_id)
        if context is None:
            if message.context_id in self.closed_ids and (message.close_context or not message.text):
                return  # a context already closed: closing or keeping it alive again changes nothing
            if message.close_context or (message.flush and not message.text):
                raise ProtocolError(
                    f"Unknown context_id {message.context_id!r}: send text with it first to open it.",
                    "invalid_context_id",
                    context_id=message.context_id or None,
                )
            if message.text is None or (message.text == "" and self.multi):
                return  # a keep-alive before any context is open
            context = self._open(message)
        elif message.params is not None or message.schedule is not None:
            # A context's settings come with its first message; a later one may change them.
            if message.params is not None:
                context.params = message.params
            if message.schedule is not None:
                context.buffer.schedule = message.schedule
        if message.close_context:
            await self._close_context(context)
            return
        text = message.text or ""
        if text:
            self._count(context, text)
            for piece in context.buffer.add(text):
                await self._queue(context, piece)
        if message.flush:
            piece = context.buffer.flush()
            if piece is not None:
                await self._queue(context, piece)
        if message.text == "" and not self.multi and not message.flush:
            await self._end_context(context)  # {"text": ""} ends a single-context socket's input

    async def _queue(self, context: Context, piece: str) -> None:
        await generation_admit(user_id=self.api_key.user_id, context_id=context.context_id if self.multi else None)
        context.queue.put_nowait(piece)

    def _open(self, message: ClientMessage) -> Context:
        if len(self.contexts) >= MAX_CONTEXTS:
            raise ProtocolError(
                f"Maximum number of contexts ({MAX_CONTEXTS}) reached for this connection; close a context "
                "(close_context) before opening another.",
                "max_active_conversations",
                context_id=message.context_id or None,
            )
        context = Context(
            context_id=message.context_id,
            params=message.params or {},
            dictionaries=message.dictionaries,
            buffer=TextBuffer(schedule=message.schedule or DEFAULT_SCHEDULE, auto_mode=self.options.auto_mode),
        )
        self.contexts[message.context_id] = context
        context.task = asyncio.ensure_future(self._speak(context))
        return context

    def _count(self, context: Context, text: str) -> None:
        limit = settings.MAX_TEXT_LENGTH
        context.characters += len(text)
        self.characters += len(text)
        if context.characters > 2 * limit:
            raise ProtocolError(
                f"A context takes at most {2 * limit} characters of text ({limit} spoken); open a new context "
                "for more.",
                "max_text_length_exceeded",
                context_id=context.context_id or None,
            )
        if self.characters > SOCKET_TEXT_FACTOR * limit:
            raise ProtocolError(
                f"A socket takes at most {SOCKET_TEXT_FACTOR * limit} characters of text in all; open a new socket "
                "for more.",
                "max_text_length_exceeded",
            )

    async def _close_context(self, context: Context) -> None:
        """close_context: the text already flushed (or ready) is still spoken, what
        was never flushed is dropped, then the context's isFinal (what pipecat and
        LiveKit wait for)."""
        context.buffer = TextBuffer(schedule=context.buffer.schedule, auto_mode=context.buffer.auto_mode)
        await self._end_context(context)

    async def _end_context(self, context: Context) -> None:
        if context.ended:
            return
        piece = context.buffer.flush()
        if piece is not None:
            await self._queue(context, piece)
        context.ended = True
        context.queue.put_nowait(_END)

    # ----------------------------------------------------------------- speaking

    async def _speak(self, context: Context) -> None:
        context_id = context.context_id if self.multi else None
        try:
            while True:
                piece = await context.queue.get()
                if piece is _END:
                    break
                context.busy = True
                generation = Generation(
                    user=self.api_key.user,
                    api_key=self.api_key,
                    voice_id=self.voice_id,
                    text=piece,
                    params=context.params,
                    language=self.options.language,
                    fmt=self.options.fmt,
                    context_id=context_id,
                    dictionaries=context.dictionaries,
                )
                # Closed on the way out whatever ends the loop (a slow consumer included):
                # closing it cancels the job at once.
                async with aclosing(generation_messages(generation)) as messages:
                    async for message in messages:
                        self._check_reading()
                        await self._send(message)
                context.busy = False
                self.last_activity = time.monotonic()
            await self._send(final_message(context_id))
        except ProtocolError as exc:
            await self._fail(exc)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("a websocket generation failed")
            await self._fail(ProtocolError("The generation failed.", "internal_error", CLOSE_INTERNAL))
            return
        finally:
            context.busy = False
        self.contexts.pop(context.context_id, None)
        self.closed_ids.add(context.context_id)
        if not self.multi:
            await self._finish(CLOSE_NORMAL, "")

    def _check_reading(self) -> None:
        """ProtocolError when the client has stopped reading: more than
        WEBSOCKET_MAX_UNSENT_BYTES wait in the server's write buffer (core.daphne_compat,
        "Unsent bytes"). A client that reads slower than real time but reads is not
        refused: the kernel's own buffers absorb that."""
        waiting = unsent_bytes(self.scope)
        limit = settings.WEBSOCKET_MAX_UNSENT_BYTES
        if waiting is not None and waiting > limit:
            logger.warning(
                "a text-to-speech websocket's client stopped reading (%d bytes unsent, at most %d): its "
                "generation is cancelled and the socket closed",
                waiting,
                limit,
            )
            raise ProtocolError(
                f"The client has stopped reading: {waiting} bytes of audio are waiting to be sent (at most "
                f"{limit}). The generation is cancelled.",
                "slow_consumer",
            )

    async def _send(self, message: dict[str, Any]) -> None:
        if not self.ended:
            await self.send(text_data=json.dumps(message, ensure_ascii=False, separators=(",", ":")))

    # ----------------------------------------------------------------- ending

    async def _finish(self, code: int, reason: str) -> None:
        if self.ended:
            return
        self.ended = True
        current = asyncio.current_task()
        for context in self.contexts.values():
            if context.task is not None and context.task is not current:
                context.task.cancel()  # their jobs are cancelled (ws_services.generation_messages)
        await self.close(code=code, reason=reason or None)

    async def _fail(self, exc: ProtocolError) -> None:
        if self.ended:
            return
        await self._send(exc.payload())
        await self._finish(exc.close_code, exc.reason)

    # ----------------------------------------------------------------- watchers

    async def _watch_inactivity(self) -> None:
        """No input for inactivity_timeout seconds while nothing is being spoken closes
        the socket, as ElevenLabs does (a keep-alive message counts as input)."""
        timeout = self.options.inactivity_timeout
        while not self.ended:
            busy = any(c.busy or not c.queue.empty() for c in self.contexts.values())
            idle = time.monotonic() - self.last_activity
            if busy:
                self.last_activity = time.monotonic()
            elif idle >= timeout:
                await self._fail(
                    ProtocolError(
                        f"Have not received a new text input within the timeout of {timeout} seconds; the socket "
                        'is closed. Send a keep-alive ({"text": ""} with its context_id) to keep it open.',
                        "input_timeout_exceeded",
                    )
                )
                return
            await asyncio.sleep(min(1.0, max(0.05, timeout - idle)) if not busy else 0.5)

    async def _watch_credential(self) -> None:
        """A socket lives no longer than its key: re-checked every EVENTS_RECHECK_SECONDS
        and at its expiry (a revocation is also pushed: speaker_key_revoked)."""
        while not self.ended:
            standing = await socket_standing(api_key_id=self.api_key.pk)
            if standing.refusal is not None:
                await self._fail(standing.refusal)
                return
            wait = settings.EVENTS_RECHECK_SECONDS
            if standing.expires_at is not None:
                wait = min(wait, max(0.05, (standing.expires_at - timezone.now()).total_seconds()))
            await asyncio.sleep(wait)

    async def speaker_key_revoked(self, message: dict[str, Any]) -> None:
        await self._fail(key_ended_refusal("key_revoked"))

    async def speaker_credential_ended(self, message: dict[str, Any]) -> None:
        await self._fail(key_ended_refusal("account_disabled"))

    async def speaker_event(self, message: dict[str, Any]) -> None:
        """Job and voice events reach /ws/events/, not this socket."""


class MultiTextToSpeechSocket(TextToSpeechSocket):
    multi = True
