"""The Wyoming server's services (docs/home-assistant.md): whose server it is, what it
offers (`info`), and each generation -- a stream job created through synthesis, like
the REST stream and the ElevenLabs websockets (queued and fair-scheduled as
interactive, counted against the account's rate limit, quota and the server's
concurrency cap, billed when it completes, kept in history), its audio turned into
Wyoming's `audio-start` / `audio-chunk` / `audio-stop` events as the engine makes it.

Wyoming has no authentication: the server speaks for the one account whose API key is
WYOMING_API_KEY. The key is checked at start-up and again with every request, so a
revoked key or a deactivated account stops the server's answers at once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.http import Http404
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.info import Attribution, Info, TtsProgram, TtsVoice
from wyoming.tts import SynthesizeVoice

from accounts.models import APIKey, User
from accounts.ratelimit import rate_limit_spend
from accounts.services import apikey_authenticate
from core.engines import get_registry
from core.errors import ApiError
from core.parsers import text_refusal
from speech.encoders import IncrementalEncoder
from speech.engines.errors import EngineError
from synthesis.models import SynthesisJob
from synthesis.services import JobRequest
from synthesis.stream_service import stream_job_create, timed_stream
from voices.models import Voice
from wyoming_server.protocol import WyomingRefusal

logger = logging.getLogger("speaker.wyoming")

SYNTHESIS_SCOPE = "synthesis:write"
# Audio goes out in chunks of this many samples (16-bit mono), as wyoming-piper sends it.
SAMPLES_PER_CHUNK = 1024
SAMPLE_WIDTH = 2
CHANNELS = 1

# Who made each engine's own voices (a cloned voice is its owner's).
ENGINE_ATTRIBUTION = {
    "piper": Attribution(name="Piper (Open Home Foundation)", url="https://github.com/OHF-Voice/piper1-gpl"),
    "xtts": Attribution(name="Coqui XTTS v2", url="https://huggingface.co/coqui/XTTS-v2"),
}
SPEAKER_ATTRIBUTION = Attribution(name="Speaker", url="")


# ------------------------------------------------------------------ whose server it is


def wyoming_account(*, raw_key: str) -> APIKey:
    """The key the server speaks for: active, on an active account, with
    `synthesis:write`; WyomingRefusal saying which of these fails."""
    if not raw_key:
        raise WyomingRefusal(
            "WYOMING_API_KEY is not set: the Wyoming server speaks for one Speaker account; create a key with "
            "the synthesis:write scope (dashboard, API keys) and set WYOMING_API_KEY to it.",
            "no_api_key",
        )
    api_key = apikey_authenticate(raw_key=raw_key)
    if api_key is None:
        raise WyomingRefusal("WYOMING_API_KEY is not a valid, active Speaker API key.", "invalid_api_key")
    if SYNTHESIS_SCOPE not in api_key.scopes:
        raise WyomingRefusal(
            f"WYOMING_API_KEY lacks the scope the Wyoming server needs: {SYNTHESIS_SCOPE}.", "missing_permissions"
        )
    return api_key


# ------------------------------------------------------------------ describe -> info


def _languages(voice: Voice) -> list[str]:
    return list(dict.fromkeys([voice.language, *(voice.languages or [])]))


def _builtin_name(voice: Voice, own_names: set[str]) -> str:
    # A cloned voice with the same name is what that name resolves to
    # (voices.selectors.voice_resolve_for_synthesis): the built-in is then named with its engine.
    return f"{voice.engine}:{voice.builtin_key}" if voice.builtin_key.lower() in own_names else voice.builtin_key


def _program(status: Any, builtins: list[Voice], own: list[Voice], owner: User, own_names: set[str]) -> TtsProgram:
    attribution = ENGINE_ATTRIBUTION.get(status.name, SPEAKER_ATTRIBUTION)
    voices = [
        TtsVoice(
            name=_builtin_name(voice, own_names),
            attribution=attribution,
            installed=True,
            description=voice.description or voice.name,
            version=None,
            languages=_languages(voice),
        )
        for voice in builtins
        if voice.engine == status.name
    ]
    voices += [
        TtsVoice(
            name=voice.name,
            attribution=Attribution(name=f"{owner.get_username()} (cloned with consent in Speaker)", url=""),
            installed=True,
            description=f"{voice.name} (cloned voice)",
            version=None,
            languages=_languages(voice),
        )
        for voice in own
        if (voice.conditioning_engine or voice.engine) == status.name
    ]
    return TtsProgram(
        name=status.name,
        attribution=attribution,
        installed=status.available,
        description=f"Speaker: {status.name} voices" + ("" if status.available else f" (unavailable: {status.reason})"),
        version=None,
        voices=voices,
        supports_synthesize_streaming=True,
    )


@database_sync_to_async
def wyoming_info(*, raw_key: str) -> Event:
    """`info`: one TTS program per enabled engine with its voices, the built-ins and the
    account's ready cloned voices, read at each `describe` (a voice made or deleted in
    the dashboard shows at the next one)."""
    owner = wyoming_account(raw_key=raw_key).user
    builtins = list(
        Voice.objects.filter(is_builtin=True, status=Voice.Status.READY).defer("conditioning").order_by("builtin_key")
    )
    own = list(Voice.objects.owned_by(owner).filter(status=Voice.Status.READY).defer("conditioning").order_by("name"))
    own_names = {voice.name.lower() for voice in own}
    programs = [_program(status, builtins, own, owner, own_names) for status in get_registry().status()]
    return Info(tts=programs).event()


# ------------------------------------------------------------------ synthesize


def _language_key(language: str) -> str:
    return language.strip().lower().replace("_", "-")


def _voice_for_language(owner: User, language: str) -> Voice:
    """The account's default voice for `language`: its own oldest ready voice speaking
    it, else a built-in one (the default engine's first). A language alone is what
    Home Assistant sends when its pipeline names no voice."""
    wanted = _language_key(language)
    primary = wanted.split("-")[0]

    def rank(voice: Voice) -> int | None:
        keys = [_language_key(code) for code in _languages(voice)]
        if wanted in keys:
            return 0
        if any(key.split("-")[0] == primary for key in keys):
            return 1
        return None

    own = Voice.objects.owned_by(owner).filter(status=Voice.Status.READY).defer("conditioning").order_by("created_at")
    builtins = (
        Voice.objects.filter(is_builtin=True, status=Voice.Status.READY).defer("conditioning").order_by("builtin_key")
    )
    registry = get_registry()
    for candidates in (own, sorted(builtins, key=lambda v: v.engine != settings.TTS_DEFAULT_ENGINE)):
        ranked = [(rank(v), n, v) for n, v in enumerate(candidates) if registry.reason(v.engine) is None]
        ranked = [(r, n, v) for r, n, v in ranked if r is not None]
        if ranked:
            return min(ranked, key=lambda item: (item[0], item[1]))[2]
    raise WyomingRefusal(f"No voice here speaks the language {language!r}.", "voice_not_found")


def _default_voice() -> Voice:
    voices = Voice.objects.filter(is_builtin=True, status=Voice.Status.READY).defer("conditioning")
    registry = get_registry()
    usable = [v for v in voices.order_by("builtin_key") if registry.reason(v.engine) is None]
    usable.sort(key=lambda v: v.engine != settings.TTS_DEFAULT_ENGINE)
    if not usable:
        raise WyomingRefusal("No voice is available on this server.", "voice_not_found")
    return usable[0]


def _voice_ref(owner: User, voice: SynthesizeVoice | None) -> str:
    """What synthesis is asked for: the voice named (an unknown voice and another
    account's get the same answer from voice_resolve_for_synthesis, naming it), or the
    default for the language, or the server's default voice."""
    if voice is not None and voice.name:
        return voice.name
    if voice is not None and voice.language:
        return str(_voice_for_language(owner, voice.language).pk)
    return str(_default_voice().pk)


def _refusal(exc: Exception) -> WyomingRefusal:
    if isinstance(exc, WyomingRefusal):
        return exc
    if isinstance(exc, ApiError):
        code = exc.code if isinstance(exc.code, str) else "invalid_request"
        return WyomingRefusal(exc.message, code)
    if isinstance(exc, Http404):
        return WyomingRefusal("The voice was not found.", "voice_not_found")
    assert isinstance(exc, EngineError)
    return WyomingRefusal(exc.message, exc.code or "invalid_request")


@dataclass(frozen=True)
class Started:
    job: SynthesisJob
    sample_rate: int


@database_sync_to_async
def _start(*, raw_key: str, text: str, voice: SynthesizeVoice | None) -> Started:
    try:
        api_key = wyoming_account(raw_key=raw_key)
        if not text.strip():
            raise WyomingRefusal("The synthesize event has no text to speak.", "empty_text")
        refusal = text_refusal(text)
        if refusal is not None:
            raise WyomingRefusal(f"The text {refusal}.", "invalid_text")
        retry_after = rate_limit_spend(user_id=api_key.user_id)
        if retry_after is not None:
            raise WyomingRefusal(f"Rate limit reached for requests; retry in {retry_after} s.", "too_many_requests")
        ref = _voice_ref(api_key.user, voice)
        req = JobRequest(text=text, voice=ref, output_format="pcm")
        job = stream_job_create(user=api_key.user, req=req, api_key=api_key)
    except (WyomingRefusal, ApiError, Http404, EngineError) as exc:
        raise _refusal(exc) from exc
    return Started(job=job, sample_rate=get_registry().engine(job.engine).sample_rate)


def _chunks(audio: bytes, rate: int) -> list[Event]:
    size = SAMPLES_PER_CHUNK * SAMPLE_WIDTH * CHANNELS
    return [
        AudioChunk(rate=rate, width=SAMPLE_WIDTH, channels=CHANNELS, audio=audio[i : i + size]).event()
        for i in range(0, len(audio), size)
    ]


async def wyoming_speak(*, raw_key: str, text: str, voice: SynthesizeVoice | None) -> AsyncIterator[Event]:
    """One generation as Wyoming events: `audio-start` at the engine's rate, 16-bit mono
    `audio-chunk`s as the engine makes them (the first as soon as the first sentence's
    first audio is ready), `audio-stop`. Closing this generator early (the client left)
    cancels the job at once (synthesis.stream_service.timed_stream). WyomingRefusal
    when it cannot start or fails."""
    started = await _start(raw_key=raw_key, text=text, voice=voice)
    rate = started.sample_rate
    yield AudioStart(rate=rate, width=SAMPLE_WIDTH, channels=CHANNELS).event()
    pieces = timed_stream(started.job, lambda engine_rate: IncrementalEncoder("pcm", engine_rate))
    async with aclosing(pieces):
        async for piece in pieces:
            if piece.error:
                raise WyomingRefusal(f"The generation failed: {piece.error}", "generation_failed")
            for event in _chunks(piece.audio, rate):
                yield event
    yield AudioStop().event()
