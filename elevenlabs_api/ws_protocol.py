"""ElevenLabs' text-to-speech websockets, the protocol half (no I/O, no database): the
handshake's query, the client's messages read and checked, the text buffer that decides
when a context's text is generated, and the character alignment of each audio message
(docs/voice-agents.md). The consumer is elevenlabs_api.ws_consumer; the generations are
elevenlabs_api.ws_services."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from elevenlabs_api.alignment import AlignmentCursor
from elevenlabs_api.formats import OutputFormat, UnknownFormat, output_format
from elevenlabs_api.requests import BadRequest, dictionary_locators, voice_settings_params
from speech.timings import WordTiming

MAX_CONTEXTS = 5  # per multi-stream-input socket, as ElevenLabs
DEFAULT_INACTIVITY_TIMEOUT = 20
MAX_INACTIVITY_TIMEOUT = 180
DEFAULT_SCHEDULE = (120, 160, 250, 290)  # ElevenLabs' default chunk_length_schedule
SCHEDULE_RANGE = (50, 500)
DEFAULT_CONTEXT = ""  # the context of a single-context socket (and of messages without context_id)

# Close codes: 4000 + the standard code ElevenLabs closes with (1008, policy violation,
# for a client's mistake): daphne's websocket library sends no close code but 1000 and
# 3000-4999 (docs/voice-agents.md).
CLOSE_NORMAL = 1000
CLOSE_UNSUPPORTED = 4003  # a binary frame
CLOSE_INVALID_PAYLOAD = 4007  # a text frame that is not a JSON object
CLOSE_POLICY = 4008
CLOSE_INTERNAL = 4011
CLOSE_TRY_AGAIN = 4013  # the server is at its concurrency cap
# A credential that is missing or ended, or may not do this: the codes every Speaker
# websocket closes with (realtime.refusals; /ws/events/ closes a revoked key's socket so).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class ProtocolError(Exception):
    """A client's mistake, or a refusal: sent as ElevenLabs' error message, then the
    socket closes with `close_code`."""

    def __init__(self, message: str, error: str, close_code: int = CLOSE_POLICY, *, context_id: str | None = None):
        super().__init__(message)
        self.message, self.error, self.close_code, self.context_id = message, error, close_code, context_id

    def payload(self) -> dict[str, Any]:
        """ElevenLabs' websocket error: `message`, `error` (a snake_case word) and `code`
        (the close code that follows); with the context it concerns, if one."""
        body: dict[str, Any] = {"message": self.message, "error": self.error, "code": self.close_code}
        if self.context_id:
            body["contextId"] = body["context_id"] = self.context_id
        return body

    @property
    def reason(self) -> str:
        """The close frame's reason: at most 123 bytes."""
        return self.message.encode()[:120].decode(errors="ignore")


# ------------------------------------------------------------------ handshake query

_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no", "")
KEY_QUERY_NAMES = ("xi_api_key", "xi-api-key", "authorization", "api_key", "token")


@dataclass(frozen=True)
class SocketOptions:
    fmt: OutputFormat
    inactivity_timeout: int = DEFAULT_INACTIVITY_TIMEOUT
    sync_alignment: bool = False
    auto_mode: bool = False
    language: str | None = None


def _flag(query: Mapping[str, list[str]], name: str) -> bool:
    raw = (query.get(name) or [""])[-1].strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ProtocolError(f"{name} must be true or false.", "invalid_request")


def socket_options(query_string: bytes) -> SocketOptions:
    """The handshake's query: `output_format` (the REST routes' set), `inactivity_timeout`
    (seconds, 20 by default, more than 180 taken as 180), `sync_alignment`, `auto_mode`, `language_code`. `model_id`,
    `enable_logging`, `enable_ssml_parsing`, `apply_text_normalization` and `seed` are
    accepted and ignored. Keys are not accepted in the URL (URLs end up in logs)."""
    query = parse_qs(query_string.decode("latin-1"), keep_blank_values=True)
    if any(name.lower() in KEY_QUERY_NAMES for name in query):
        raise ProtocolError(
            "API keys are not accepted in the URL (URLs end up in logs); send the key in the xi-api-key header "
            "or as xi_api_key in the first message.",
            "invalid_api_key",
            CLOSE_UNAUTHENTICATED,
        )
    try:
        fmt = output_format((query.get("output_format") or [None])[-1] or None)
    except UnknownFormat as exc:
        raise ProtocolError(str(exc), "invalid_output_format") from exc
    raw_timeout = (query.get("inactivity_timeout") or [""])[-1].strip()
    timeout = DEFAULT_INACTIVITY_TIMEOUT
    if raw_timeout:
        try:
            timeout = int(raw_timeout)
        except ValueError:
            timeout = 0
        if timeout < 1:
            raise ProtocolError(
                f"inactivity_timeout must be a whole number of seconds (at most {MAX_INACTIVITY_TIMEOUT} apply).",
                "invalid_request",
            )
        # More is lowered to the most, as ElevenLabs does (LiveKit's plugin asks for 300).
        timeout = min(timeout, MAX_INACTIVITY_TIMEOUT)
    language = (query.get("language_code") or [""])[-1].strip().lower() or None
    return SocketOptions(
        fmt=fmt,
        inactivity_timeout=timeout,
        sync_alignment=_flag(query, "sync_alignment"),
        auto_mode=_flag(query, "auto_mode"),
        language=language,
    )


# ------------------------------------------------------------------ client messages


@dataclass(frozen=True)
class ClientMessage:
    context_id: str
    text: str | None = None  # None: the message has no `text`
    flush: bool = False
    close_context: bool = False
    close_socket: bool = False
    key: str | None = None  # xi_api_key, or the token of `authorization: Bearer …`
    params: dict[str, Any] | None = None  # from voice_settings, when the message has them
    schedule: tuple[int, ...] | None = None  # from generation_config.chunk_length_schedule
    # pronunciation_dictionary_locators, as the REST routes read them (up to 3, in order);
    # None: the message names none (the context speaks with the account's default).
    dictionaries: tuple[tuple[str, str | None], ...] | None = None


def _schedule(config: Any) -> tuple[int, ...] | None:
    if config is None:
        return None
    if not isinstance(config, Mapping):
        raise ProtocolError("generation_config must be an object.", "invalid_request")
    raw = config.get("chunk_length_schedule")
    if raw is None:
        return None
    low, high = SCHEDULE_RANGE
    if (
        not isinstance(raw, list)
        or not raw
        or not all(
            not isinstance(n, bool) and isinstance(n, (int, float)) and math.isfinite(n) and low <= n <= high
            for n in raw
        )
    ):
        raise ProtocolError(
            f"generation_config.chunk_length_schedule must be a list of numbers, each from {low} to {high}.",
            "invalid_request",
        )
    return tuple(int(n) for n in raw)


def _bool(message: Mapping[str, Any], name: str) -> bool:
    value = message.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ProtocolError(f"{name} must be true or false.", "invalid_request")
    return value


def client_message(message: Any, *, multi: bool) -> ClientMessage:
    """One client message, checked (`ProtocolError` on a mistake)."""
    if not isinstance(message, Mapping):
        raise ProtocolError("Each message must be a JSON object.", "invalid_message", CLOSE_INVALID_PAYLOAD)
    context_id = DEFAULT_CONTEXT
    if multi:
        raw_id = message.get("context_id", message.get("contextId"))
        if raw_id is not None and (not isinstance(raw_id, str) or len(raw_id) > 200):
            raise ProtocolError("context_id must be a string of at most 200 characters.", "invalid_request")
        context_id = raw_id or DEFAULT_CONTEXT
    text = message.get("text")
    if text is not None and not isinstance(text, str):
        raise ProtocolError("text must be a string.", "invalid_request", context_id=context_id or None)
    key = message.get("xi_api_key") or message.get("authorization")
    if key is not None and not isinstance(key, str):
        raise ProtocolError("xi_api_key and authorization must be strings.", "invalid_api_key", CLOSE_UNAUTHENTICATED)
    if key:
        key = key.strip()
        if key.lower().startswith("bearer "):
            key = key[7:].strip()
    try:
        settings = message.get("voice_settings")
        params = voice_settings_params(settings) if settings is not None else None
        dictionaries = dictionary_locators(message.get("pronunciation_dictionary_locators"))
    except BadRequest as exc:
        raise ProtocolError(exc.message, "invalid_request", context_id=context_id or None) from exc
    return ClientMessage(
        context_id=context_id,
        text=text,
        flush=_bool(message, "flush"),
        close_context=_bool(message, "close_context") if multi else False,
        close_socket=_bool(message, "close_socket") if multi else False,
        key=key or None,
        params=params,
        schedule=_schedule(message.get("generation_config")),
        dictionaries=dictionaries,
    )


# ------------------------------------------------------------------ text buffering

# A sentence ends at . ! ? … (with closing quotes or brackets) before a space, or at the
# end of what has arrived -- except a "." after a digit there, which may be a decimal
# point whose next digits are still on their way (3.14).
_CLOSERS = "[\"'”’)\\]]*"
_SENTENCE_END = re.compile(rf"[.!?…]+{_CLOSERS}(?=\s)|(?:[!?…]|(?<!\d)\.)[.!?…]*{_CLOSERS}$")
_CLAUSE_END = re.compile(r"[,;:—–)](?=\s)")
# A tag of the inline markup (speech/markup.py): opening, closing (group 1 "/") or
# self-closing (group 2 "/"); and a tag still arriving at the end of the buffer.
_TAG = re.compile(r"<(/?)[A-Za-z][\w:-]*(?:\s[^<>]*?)?(/?)>")
_PARTIAL_TAG = re.compile(r"<(?:[A-Za-z/][^<>]*)?$")


@dataclass
class TextBuffer:
    """A context's text not yet generated. `add` returns the pieces to generate now: up
    to each sentence end; or, with no sentence end, once the schedule's length is
    reached, up to the last clause boundary (a comma, a semicolon, …) within it, else
    the last space; `flush` returns the rest. `auto_mode`: sentences only, no schedule.
    A piece never cuts markup (`<break time="1.5s"/>`, `<sub alias="Dr. Smith">Doc</sub>`):
    a stop inside a tag or an element moves after it, or before it while it is still
    arriving, so that every piece's markup can be read (docs/pronunciation.md)."""

    schedule: tuple[int, ...] = DEFAULT_SCHEDULE
    auto_mode: bool = False
    text: str = ""
    generated: int = 0  # pieces handed out: the next length is schedule[min(generated, last)]

    def _limit(self) -> int:
        return self.schedule[min(self.generated, len(self.schedule) - 1)]

    def _take(self, stop: int) -> str | None:
        piece, self.text = self.text[:stop], self.text[stop:]
        if not piece.strip():
            self.text = piece + self.text if not self.text else self.text
            return None
        self.generated += 1
        return piece

    def add(self, text: str) -> list[str]:
        self.text += text
        pieces: list[str] = []
        while True:
            stop = self._next_stop()
            if stop is None:
                return pieces
            piece = self._take(stop)
            if piece is None:
                return pieces
            pieces.append(piece)

    def _markup_spans(self) -> list[tuple[int, int | None]]:
        """The buffer's top-level markup: (start, end) of each tag or element, end None
        while it is still arriving."""
        spans: list[tuple[int, int | None]] = []
        depth, opened = 0, 0
        for tag in _TAG.finditer(self.text):
            closing, self_closing = tag.group(1) == "/", tag.group(2) == "/"
            if self_closing:
                if depth == 0:
                    spans.append((tag.start(), tag.end()))
            elif closing:
                if depth > 0:
                    depth -= 1
                    if depth == 0:
                        spans.append((opened, tag.end()))
            else:
                if depth == 0:
                    opened = tag.start()
                depth += 1
        if depth > 0:
            spans.append((opened, None))
        else:
            partial = _PARTIAL_TAG.search(self.text)
            if partial is not None and (not spans or spans[-1][1] is None or partial.start() >= spans[-1][1]):
                spans.append((partial.start(), None))
        return spans

    @staticmethod
    def _markup_cut(stop: int, spans: list[tuple[int, int | None]]) -> tuple[int, int | None] | None:
        """The top-level markup that a piece ending at `stop` would cut, else None."""
        for start, end in spans:
            if start < stop and (end is None or stop < end):
                return start, end
        return None

    def _next_stop(self) -> int | None:
        spans = self._markup_spans()
        position = 0
        while (end := _SENTENCE_END.search(self.text, position)) is not None:
            cut = self._markup_cut(end.end(), spans)
            if cut is None:
                return end.end()
            if cut[1] is None:  # a sentence end inside markup still arriving: wait for it
                return None
            position = cut[1]  # inside complete markup ("Dr." in an alias): look after it
        if self.auto_mode:
            return None
        limit = self._limit()
        if len(self.text) < limit:
            return None
        window = self.text[:limit]
        clauses = list(_CLAUSE_END.finditer(window))
        if clauses:
            stop = clauses[-1].end()
        else:
            space = window.rfind(" ")
            stop = space + 1 if space > 0 else limit
        cut = self._markup_cut(stop, spans)
        if cut is None:
            return stop
        start, end_ = cut
        if end_ is not None:
            return end_  # the whole of it, a little beyond the schedule's length
        return start if self.text[:start].strip() else None  # what comes before it, or wait

    def flush(self) -> str | None:
        piece, self.text = self.text, ""
        if not piece.strip():
            return None
        self.generated += 1
        return piece


# ------------------------------------------------------------------ alignment


class ChunkAligner(AlignmentCursor):
    """The character alignment of one generation's audio messages, in ElevenLabs'
    websocket shape (`chars`, `charStartTimesMs`, `charDurationsMs`), times relative to
    the message's own chunk: a message's clock starts where the previous message's
    last character ended (so a client that adds up each chunk's span, as pipecat does,
    keeps time). Built from the words the engine timed (speech.timings.char_alignment)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.clock = 0.0  # seconds: where the previous message's characters ended

    def take(self, words: list[WordTiming]) -> dict[str, Any] | None:
        return self._advance(words)

    def _render(self, characters: list[str], starts: list[float], ends: list[float]) -> dict[str, Any]:
        origin = self.clock
        chunk_starts = [max(0, round((s - origin) * 1000)) for s in starts]
        durations = [max(0, round((e - s) * 1000)) for s, e in zip(starts, ends, strict=True)]
        if ends:
            self.clock = max(origin, ends[-1])
        return {"chars": characters, "charStartTimesMs": chunk_starts, "charDurationsMs": durations}
