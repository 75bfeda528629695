"""Reads of voices, samples and the engines' languages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from voices.models import Voice, VoiceSample


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
    from core.engines import get_registry
    from speech.engines.xtts_engine import XTTSEngine

    registry = get_registry()
    cloners = [status for status in registry.status() if status.clones]
    for status in cloners:
        if status.available:
            return CloningEngineInfo(status.name, True, None, tuple(status.languages))
    if cloners:
        first = cloners[0]
        return CloningEngineInfo(first.name, False, first.reason, tuple(first.languages))
    # No enabled engine clones (TTS_ENGINES leaves XTTS out): name the one that would.
    return CloningEngineInfo(
        XTTSEngine.name, False, registry.reason(XTTSEngine.name), tuple(XTTSEngine.languages)
    )


def clone_languages() -> tuple[str, ...]:
    """Languages a cloned voice may have: the cloning engine's."""
    return cloning_engine_info().languages


def spoken_languages() -> tuple[str, ...]:
    """Every language an enabled engine speaks (what a synthesis `language` may be; the
    voice's own engine must speak it too)."""
    from core.engines import get_registry

    return tuple(dict.fromkeys(language for status in get_registry().status() for language in status.languages))


def engine_languages() -> list[dict[str, Any]]:
    """Per engine: name, availability (and why not), languages, whether it clones."""
    from core.engines import get_registry

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
            {"name": info.name, "available": False, "reason": info.reason, "languages": list(info.languages), "clones": True}
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
    return Voice.objects.filter(status=Voice.Status.PROCESSING, is_builtin=False).defer("conditioning").order_by(
        "updated_at", "id"
    )
