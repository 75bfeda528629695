"""ElevenLabs' text-to-speech websockets, the service half: who the socket is, whether
its credential still holds, and each generation of a context -- a stream job created
through synthesis (queued, fair-scheduled as interactive, billed when it completes,
counted against the account's rate limit, quota and the server's concurrency cap, kept
in history with its text, audio and timings), its audio and timings turned into
ElevenLabs' audio messages (docs/voice-agents.md)."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from channels.db import database_sync_to_async
from django.http import Http404

from accounts.credentials import apikey_standing
from accounts.models import APIKey, User
from accounts.ratelimit import rate_limit_spend
from accounts.services import apikey_authenticate
from core.errors import ApiError
from elevenlabs_api import services
from elevenlabs_api.formats import OutputFormat
from elevenlabs_api.requests import SpeechBody
from elevenlabs_api.ws_protocol import (
    CLOSE_FORBIDDEN,
    CLOSE_INTERNAL,
    CLOSE_POLICY,
    CLOSE_TRY_AGAIN,
    CLOSE_UNAUTHENTICATED,
    ChunkAligner,
    ProtocolError,
)
from pronunciation.selectors import DictionaryNotFound
from speech.engines.errors import EngineError, EngineUnavailable
from synthesis.models import SynthesisJob
from synthesis.stream_service import timed_stream
from voices.selectors import voice_resolve_for_synthesis

logger = logging.getLogger("speaker.elevenlabs")

SYNTHESIS_SCOPE = "synthesis:write"


# ------------------------------------------------------------------ who the socket is


def _key_refusal(api_key: APIKey | None) -> ProtocolError | None:
    if api_key is None:
        return ProtocolError("Invalid, expired or revoked API key.", "invalid_api_key", CLOSE_UNAUTHENTICATED)
    if SYNTHESIS_SCOPE not in api_key.scopes:
        return ProtocolError(
            f"This API key lacks the scope this needs: {SYNTHESIS_SCOPE}.", "missing_permissions", CLOSE_FORBIDDEN
        )
    return None


@database_sync_to_async
def socket_authenticate(*, raw_key: str, voice_id: str) -> APIKey:
    """The key that opens the socket (with the `synthesis:write` scope) and a check that
    its user may speak with `voice_id`; ProtocolError otherwise. Another user's voice
    gets the answer of a voice that does not exist."""
    api_key = apikey_authenticate(raw_key=raw_key)
    refusal = _key_refusal(api_key)
    if refusal is not None:
        raise refusal
    assert api_key is not None
    try:
        voice_resolve_for_synthesis(user=api_key.user, ref=voice_id)
    except Http404 as exc:
        raise ProtocolError(f"A voice with the voice_id {voice_id} was not found.", "voice_not_found") from exc
    except ApiError as exc:  # a clone not ready yet, its engine missing here
        raise ProtocolError(exc.message, exc.code) from exc
    return api_key


@dataclass(frozen=True)
class Standing:
    refusal: ProtocolError | None
    expires_at: datetime | None


_ENDED = {
    "key_revoked": ("The API key was revoked.", CLOSE_FORBIDDEN),
    "key_expired": ("The API key expired; connect again with an active key.", CLOSE_UNAUTHENTICATED),
    "account_disabled": ("This account is deactivated.", CLOSE_FORBIDDEN),
}


@database_sync_to_async
def socket_standing(*, api_key_id: int) -> Standing:
    """Whether the socket's key still holds; a socket lives no longer than its key."""
    reason, expires_at = apikey_standing(api_key_id=api_key_id)
    if reason is None:
        return Standing(None, expires_at)
    return Standing(key_ended_refusal(reason), None)


def key_ended_refusal(reason: str) -> ProtocolError:
    """The key ended while the socket was open: closed with the code /ws/events/ uses."""
    reason = reason if reason in _ENDED else "key_revoked"
    message, close_code = _ENDED[reason]
    return ProtocolError(message, reason, close_code)


# ------------------------------------------------------------------ generations


@dataclass(frozen=True)
class Generation:
    """One piece of a context's text to speak, with the context's settings."""

    user: User
    api_key: APIKey
    voice_id: str
    text: str
    params: dict[str, Any]
    language: str | None
    fmt: OutputFormat
    context_id: str | None  # None on a single-context socket: no contextId in its messages
    # The context's pronunciation dictionaries (its first message's locators); None: the
    # account's default, as on the REST routes (docs/pronunciation.md).
    dictionaries: tuple[tuple[str, str | None], ...] | None = None


def _refusal_for(exc: Exception, context_id: str | None) -> ProtocolError:
    if isinstance(exc, ApiError):
        code = exc.code if isinstance(exc.code, str) else "invalid_request"
        close = CLOSE_TRY_AGAIN if exc.status_code == 503 else CLOSE_POLICY
        return ProtocolError(exc.message, code, close, context_id=context_id)
    if isinstance(exc, DictionaryNotFound):
        return ProtocolError(str(exc), "pronunciation_dictionary_not_found", context_id=context_id)
    if isinstance(exc, Http404):
        return ProtocolError("The voice was not found.", "voice_not_found", context_id=context_id)
    if isinstance(exc, EngineUnavailable):
        return ProtocolError(exc.message, "engine_unavailable", CLOSE_TRY_AGAIN, context_id=context_id)
    assert isinstance(exc, EngineError)
    return ProtocolError(exc.message, exc.code or "invalid_request", context_id=context_id)


@database_sync_to_async
def generation_admit(*, user_id: int, context_id: str | None) -> None:
    """Each piece of text a socket hands to generation counts as one request against the
    account's rate limit (the counter its HTTP requests share); past it, ProtocolError."""
    retry_after = rate_limit_spend(user_id=user_id)
    if retry_after is not None:
        raise ProtocolError(
            f"Rate limit reached for requests; retry in {retry_after} s.", "too_many_requests", context_id=context_id
        )


@database_sync_to_async
def _start(generation: Generation) -> SynthesisJob:
    body = SpeechBody(
        text=generation.text,
        language=generation.language,
        params=generation.params,
        model_id=None,
        dictionaries=generation.dictionaries,
    )
    try:
        return services.speech_start(
            user=generation.user, api_key=generation.api_key, voice_id=generation.voice_id, body=body
        )
    except (ApiError, Http404, EngineError) as exc:
        raise _refusal_for(exc, generation.context_id) from exc


async def generation_messages(generation: Generation, *, job_started: Any = None) -> AsyncIterator[dict[str, Any]]:
    """Start the generation as a stream job and yield ElevenLabs' audio messages: each
    chunk of audio as soon as the engine makes it (`alignment: null`), and after each
    sentence a message with the alignment of its characters (and no audio: a sentence's
    words are timed only once it is made, and holding its audio until then would delay
    the first audio by a whole sentence); the last one carries the characters no word
    covered. Closing this generator early (a closed
    context, a dropped socket) cancels the job at once (synthesis.stream_service.
    timed_stream). ProtocolError when it cannot start or fails."""
    job = await _start(generation)
    if job_started is not None:
        job_started(job)
    aligner = ChunkAligner(generation.text)
    async with aclosing(timed_stream(job, generation.fmt.encoder)) as pieces:
        async for piece in pieces:
            if piece.error:
                raise ProtocolError(
                    f"The generation failed: {piece.error}",
                    "generation_failed",
                    CLOSE_INTERNAL,
                    context_id=generation.context_id,
                )
            alignment = aligner.take(piece.words) if piece.words else None
            if not piece.audio and alignment is None:
                continue
            yield _audio_message(piece.audio, alignment, generation.context_id)
    rest = aligner.rest()
    if rest is not None:
        yield _audio_message(b"", rest, generation.context_id)


def _audio_message(audio: bytes, alignment: dict[str, Any] | None, context_id: str | None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "audio": base64.b64encode(audio).decode("ascii"),
        "isFinal": False,
        # Speaker speaks the text as written (no separate normalisation step), so the
        # normalised alignment is the alignment.
        "normalizedAlignment": alignment,
        "alignment": alignment,
    }
    if context_id is not None:
        message["contextId"] = message["context_id"] = context_id
    return message


def final_message(context_id: str | None) -> dict[str, Any]:
    message: dict[str, Any] = {"isFinal": True}
    if context_id is not None:
        message["contextId"] = message["context_id"] = context_id
    return message
