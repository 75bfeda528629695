"""Reads of voices, samples and the engines' languages, the voice a synthesis request
names (`voice_resolve_for_synthesis`) and what an engine is handed for it
(`voice_ref`). Reads never write: the built-in voices
are synced at start-up (voices.services.catalogue), not here."""

from __future__ import annotations

import difflib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404

from core.engines import get_registry
from core.errors import ApiError, Conflict
from speech.engines.base import VoiceRef
from speech.engines.registry import KNOWN_ENGINES
from speech.engines.xtts_engine import XTTSEngine
from voices.models import Voice, VoiceConsent, VoiceSample


@dataclass(frozen=True)
class CloningEngineInfo:
    """The engine that clones voices here (or would, were it available)."""

    name: str
    available: bool
    reason: str | None
    languages: tuple[str, ...]

    @property
    def missing_message(self) -> str:
        return f"Voice cloning needs the {self.name} engine, which is not available here: {self.reason}"


def cloning_engine_info() -> CloningEngineInfo:
    """Which engine clones, whether it can run here and the languages it speaks, without
    loading any model (safe to call from a web request)."""
    registry = get_registry()
    cloners = [status for status in registry.status() if status.clones]
    for status in cloners:
        if status.available:
            return CloningEngineInfo(status.name, True, None, tuple(status.languages))
    if cloners:
        first = cloners[0]
        return CloningEngineInfo(first.name, False, first.reason, tuple(first.languages))
    # No enabled engine clones (TTS_ENGINES leaves XTTS out): name the one that would.
    return CloningEngineInfo(XTTSEngine.name, False, registry.reason(XTTSEngine.name), tuple(XTTSEngine.languages))


def clone_languages() -> tuple[str, ...]:
    """Languages a cloned voice may have: the cloning engine's."""
    return cloning_engine_info().languages


def spoken_languages() -> tuple[str, ...]:
    """Every language an enabled engine speaks (what a synthesis `language` may be; the
    voice's own engine must speak it too)."""
    return tuple(dict.fromkeys(language for status in get_registry().status() for language in status.languages))


def engine_languages() -> list[dict[str, Any]]:
    """Per engine: name, availability (and why not), languages, whether it clones."""
    engines = [
        {
            "name": status.name,
            "available": status.available,
            "reason": status.reason,
            "languages": list(status.languages),
            "clones": status.clones,
        }
        for status in get_registry().status()
    ]
    if not any(engine["clones"] for engine in engines):
        # TTS_ENGINES leaves the cloning engine out: still say which one and why not.
        info = cloning_engine_info()
        engines.append(
            {
                "name": info.name,
                "available": False,
                "reason": info.reason,
                "languages": list(info.languages),
                "clones": True,
            }
        )
    return engines


def voice_list(*, user: Any, language: str | None = None, engine: str | None = None) -> QuerySet[Voice]:
    """Built-in voices and the user's own, without the conditioning blobs."""
    voices = Voice.objects.visible_to(user).defer("conditioning").prefetch_related("samples")
    if language:
        voices = voices.filter(language__iexact=language.strip())
    if engine:
        voices = voices.filter(engine__iexact=engine.strip())
    return voices.order_by("-is_builtin", "name", "created_at", "id")


def voice_get_visible(*, user: Any, voice_id: Any) -> Voice:
    """A built-in voice or one of the user's own; 404 for anything else."""
    voice = Voice.objects.visible_to(user).defer("conditioning").filter(pk=voice_id).first()
    if voice is None:
        raise Http404
    return voice


def voice_get_owned(*, user: Any, voice_id: Any) -> Voice:
    """One of the user's own cloned voices; 404 for another user's voice (never 403:
    the id of someone else's voice is not confirmed to exist)."""
    voice = Voice.objects.owned_by(user).defer("conditioning").filter(pk=voice_id).first()
    if voice is None:
        raise Http404
    return voice


def voice_consent_list(*, user: Any) -> QuerySet[VoiceConsent]:
    """The user's consent recordings, newest first."""
    return VoiceConsent.objects.filter(owner=user).order_by("-created_at", "-id")


def voice_consent_get_owned(*, user: Any, consent_id: Any) -> VoiceConsent:
    """One of the user's consent recordings; 404 for another user's or a malformed id."""
    try:
        pk = uuid.UUID(str(consent_id))
    except ValueError:
        raise Http404 from None
    consent = VoiceConsent.objects.filter(pk=pk, owner=user).first()
    if consent is None:
        raise Http404
    return consent


def sample_get_owned(*, user: Any, voice_id: Any, sample_id: Any) -> VoiceSample:
    sample = (
        VoiceSample.objects.select_related("voice")
        .defer("voice__conditioning")
        .filter(pk=sample_id, voice_id=voice_id, voice__owner=user, voice__is_builtin=False)
        .first()
    )
    if sample is None:
        raise Http404
    return sample


def voices_needing_preparation() -> QuerySet[Voice]:
    """Cloned voices whose conditioning the worker must (re)compute, oldest first."""
    return (
        Voice.objects.filter(status=Voice.Status.PROCESSING, is_builtin=False)
        .defer("conditioning")
        .order_by("updated_at", "id")
    )


# ------------------------------------------------------- the voice of a synthesis


def _builtin_by_ref(ref: str) -> Voice | None:
    engine, sep, key = ref.partition(":")
    voices = Voice.objects.filter(is_builtin=True).defer("conditioning")
    if sep and engine.lower() in KNOWN_ENGINES:
        voices = voices.filter(engine=engine.lower(), builtin_key__iexact=key.strip())
    else:
        voices = voices.filter(builtin_key__iexact=ref)
    # Ready voices first, then the default engine's.
    matches = sorted(voices, key=lambda v: (v.status != Voice.Status.READY, v.engine != settings.TTS_DEFAULT_ENGINE))
    return matches[0] if matches else None


def _ensure_usable(voice: Voice) -> None:
    details = {"voice": str(voice.pk), "status": voice.status, "engine": voice.engine}
    if voice.is_builtin:
        reason = get_registry().reason(voice.engine)
        if reason is not None:
            raise Conflict(
                f"The voice {voice.name!r} needs the {voice.engine} engine, which is not available here: {reason}",
                details=details,
            )
        if voice.status != Voice.Status.READY:
            raise Conflict(voice.status_message or f"The voice {voice.name!r} is not available.", details=details)
        return
    if voice.status == Voice.Status.READY:
        engine = voice.conditioning_engine or voice.engine
        reason = get_registry().reason(engine)
        if reason is not None:
            raise Conflict(
                f"The voice {voice.name!r} needs the {engine} engine, which is not available here: {reason}",
                details=details,
            )
        return
    if voice.status == Voice.Status.PENDING_ENGINE:
        info = cloning_engine_info()
        message = (
            info.missing_message
            if not info.available
            else f"The voice {voice.name!r} is waiting for the {info.name} engine to prepare it; try again shortly."
        )
        raise Conflict(message, details={**details, "engine": info.name})
    if voice.status == Voice.Status.PROCESSING:
        raise Conflict(
            f"The voice {voice.name!r} is still being prepared from its samples; try again when its status is ready.",
            details=details,
        )
    raise Conflict(
        f"The voice {voice.name!r} could not be prepared: {voice.status_message or 'unknown error'}. "
        "Upload new samples or delete it.",
        details=details,
    )


class VoiceNotFound(ApiError, Http404):
    """404 `voice_not_found`: the message names the voice asked for and lists the voices
    the caller can use (docs/api.md "Errors"). Also an Http404, so code that treats any
    unknown voice as "not found" keeps doing so."""

    status_code = 404
    code = "voice_not_found"


# A typo'd name lists the usable voices; a user with very many keeps the message short.
_MAX_LISTED_VOICES = 25


def voices_usable_names(*, user: Any) -> list[str]:
    """Names a synthesis request can use right now: ready built-in voices whose engine
    runs here, then the user's own ready voices (docs/api.md "Errors")."""
    registry = get_registry()
    names: list[str] = []
    builtins = Voice.objects.filter(is_builtin=True, status=Voice.Status.READY).defer("conditioning")
    for voice in builtins.order_by("builtin_key", "engine"):
        if registry.reason(voice.engine) is None and voice.builtin_key not in names:
            names.append(voice.builtin_key)
    own = Voice.objects.owned_by(user).filter(status=Voice.Status.READY).defer("conditioning").order_by("name")
    names.extend(voice.name for voice in own if voice.name not in names)
    return names


def voice_not_found(*, user: Any, ref: str, extra_names: Sequence[str] = ()) -> VoiceNotFound:
    """The error for a voice reference that matches nothing the user may use, naming it,
    suggesting the closest usable name and listing them all. `extra_names` are further
    names the caller's API accepts (the OpenAI route's aliases)."""
    available = [*voices_usable_names(user=user), *[n for n in extra_names]]
    available = list(dict.fromkeys(available))
    shown = available[:_MAX_LISTED_VOICES]
    listing = ", ".join(shown) + (f" and {len(available) - len(shown)} more" if len(available) > len(shown) else "")
    if not ref:
        message = "No voice was given."
    else:
        try:
            uuid.UUID(ref)
            message = f"There is no voice with id {ref!r} among the built-in voices and yours."
        except ValueError:
            message = f"There is no voice named {ref!r}."
            close = difflib.get_close_matches(ref.lower(), [n.lower() for n in available], n=1, cutoff=0.6)
            if close:
                suggestion = next(n for n in available if n.lower() == close[0])
                message += f" Did you mean {suggestion!r}?"
    message += f" Voices you can use: {listing}." if available else " You have no usable voice yet: clone one first."
    return VoiceNotFound(message, details={"voice": [message], "available_voices": available})


def voice_resolve_for_synthesis(*, user: Any, ref: str) -> Voice:
    """The voice a synthesis request names: a voice id (built-in or the user's own),
    the name of one of the user's own voices (case-insensitive), or a built-in voice
    name (`joe`, or `engine:name`). VoiceNotFound (404 `voice_not_found`, also an
    Http404) for an unknown or another user's voice, listing the usable ones;
    Conflict (409) when the voice cannot speak now (a clone not ready yet, or its
    engine missing here), with a message saying why."""
    ref = str(ref or "").strip()
    if not ref:
        raise voice_not_found(user=user, ref=ref)
    voice: Voice | None = None
    try:
        voice_id = uuid.UUID(ref)
    except ValueError:
        voice_id = None
    if voice_id is not None:
        voice = Voice.objects.visible_to(user).filter(pk=voice_id).first()
    else:
        voice = Voice.objects.owned_by(user).filter(name__iexact=ref).first()
        if voice is None:
            voice = _builtin_by_ref(ref)
    if voice is None:
        raise voice_not_found(user=user, ref=ref)
    _ensure_usable(voice)
    return voice


def voice_ref(voice: Voice) -> VoiceRef:
    """What an engine speaks with for `voice`: a built-in voice by its engine's name,
    a cloned one by its conditioning (None until it is prepared)."""
    if voice.is_builtin:
        return VoiceRef(builtin=voice.builtin_key)
    return VoiceRef(conditioning=bytes(voice.conditioning) if voice.conditioning is not None else None)


def voice_blend_candidates(*, user: Any) -> list[Voice]:
    """What a blend may be made of (voices.services.blends): the user's own ready cloned
    voices of the cloning engine, then its ready built-in speakers; empty when no engine
    clones here. Without the conditioning blobs."""
    info = cloning_engine_info()
    if not info.available:
        return []
    ready = Voice.objects.defer("conditioning").filter(engine=info.name, status=Voice.Status.READY)
    own = ready.owned_by(user).filter(conditioning__isnull=False).order_by("name", "created_at")
    builtin = ready.filter(is_builtin=True).order_by("name")
    return [*own, *builtin]


def voice_blend_sources(*, voice: Voice) -> list[dict[str, Any]]:
    """A blended voice's sources as recorded (Voice.blended_from), each with `exists`:
    whether that voice is still there (the blend speaks either way)."""
    sources = list(voice.blended_from or [])
    if not sources:
        return []
    ids = [source.get("voice_id") for source in sources]
    present = {str(pk) for pk in Voice.objects.filter(pk__in=ids).values_list("pk", flat=True)}
    return [{**source, "exists": str(source.get("voice_id")) in present} for source in sources]
