"""Blended voices (docs/voice-cloning.md, "Blended voices"): a new voice whose stored
conditioning is the weighted combination of 2-4 sources, each one of the caller's own
ready cloned voices or a built-in speaker of the cloning engine.

The blend is computed once, here, by the cloning engine (its checkpoint files, not its
model: `Engine.blend_voices`), and stored on the new voice as a clone's conditioning
is, so it speaks like any cloned voice and keeps working when a source is deleted. Its
sources are recorded by value on the voice (`Voice.blended_from`) and in its consent
record (`ConsentRecord.blend_sources`, with each source's own consent records): the
consent of a blend is its sources' consent."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.engines import get_registry
from core.errors import ApiError, Conflict
from monitoring.services import audit_record
from speech.engines.errors import EngineUnavailable, InvalidParams
from voices.models import BLEND_CONSENT_STATEMENT, ConsentRecord, Voice
from voices.selectors import cloning_engine_info, voice_ref, voice_resolve_for_synthesis
from voices.services.samples import consent_witness
from voices.services.voices import clone_language_check, voice_name_check_free, voice_name_clean

MIN_SOURCES = 2
MAX_SOURCES = 4


@dataclass(frozen=True)
class BlendSource:
    """A source as the caller names it: a voice id or name (as in a synthesis request),
    and its weight (any scale; normalised to add up to 1)."""

    voice: str
    weight: float


def _check_sources(sources: Sequence[BlendSource]) -> None:
    if not MIN_SOURCES <= len(sources) <= MAX_SOURCES:
        raise ApiError(
            f"A blend takes {MIN_SOURCES} to {MAX_SOURCES} source voices; {len(sources)} were given.",
            details={"sources": [f"give {MIN_SOURCES} to {MAX_SOURCES} sources"]},
        )
    for index, source in enumerate(sources):
        weight = source.weight
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
            field = f"sources.{index}.weight"
            raise ApiError(
                f"{field} must be a number of at least 0, got {weight!r}.",
                details={field: ["a number of at least 0"]},
            )
    if sum(source.weight for source in sources) <= 0:
        raise ApiError(
            "At least one source needs a weight above 0: the weights say how much of each voice the blend has.",
            details={"sources": ["all weights are 0"]},
        )


def _resolve(*, user: Any, sources: Sequence[BlendSource], engine_name: str) -> list[Voice]:
    """Each source as a voice the caller may blend: 404 for one that is not theirs or a
    built-in (as if missing), 409 for one not ready, 400 for another engine's voice or a
    source named twice."""
    voices: list[Voice] = []
    for index, source in enumerate(sources):
        field = f"sources.{index}.voice"
        try:
            voice = voice_resolve_for_synthesis(user=user, ref=source.voice)
        except ApiError as exc:
            # Same status and code (404 as if missing, 409 not ready), but said about the
            # source it concerns, so a form shows it next to that source.
            raise type(exc)(
                exc.message, code=exc.code, status_code=exc.status_code, details={field: [exc.message]}
            ) from exc
        if voice.engine != engine_name or (not voice.is_builtin and voice.conditioning is None):
            raise ApiError(
                f"{voice.name!r} is a {voice.engine} voice; a blend is made of {engine_name} voices: your ready "
                f"cloned voices and the built-in {engine_name} speakers.",
                details={field: [f"not a {engine_name} voice"]},
            )
        if any(other.pk == voice.pk for other in voices):
            raise ApiError(f"{voice.name!r} is named twice.", details={field: ["each source once"]})
        voices.append(voice)
    return voices


def _source_record(voice: Voice, weight: float) -> dict[str, Any]:
    consent_ids = [] if voice.is_builtin else [str(pk) for pk in voice.consent_records.values_list("pk", flat=True)]
    return {
        "voice_id": str(voice.pk),
        "name": voice.name,
        "builtin": voice.is_builtin,
        "weight": weight,
        "consent_record_ids": consent_ids,
    }


def voice_blend_create(
    *,
    user: Any,
    name: str,
    sources: Sequence[BlendSource],
    description: str = "",
    language: str | None = None,
) -> Voice:
    """Create a ready voice blended from `sources` (see the module doc). 400 for 1 or
    more than 4 sources, a negative weight or all weights 0, another engine's voice or
    a source named twice; 404 for a voice that is not the caller's (nor built-in); 409
    for a source not ready, a taken name, or no cloning engine here."""
    name = voice_name_clean(name)
    _check_sources(sources)
    info = cloning_engine_info()
    if not info.available:
        raise EngineUnavailable(info.missing_message, engine=info.name)  # -> 409
    voices = _resolve(user=user, sources=sources, engine_name=info.name)
    language = clone_language_check(language) if language else clone_language_check(voices[0].language)
    voice_name_check_free(user=user, name=name)
    engine = get_registry().engine(info.name)
    try:
        conditioning = engine.blend_voices(
            [(voice_ref(v), float(s.weight)) for v, s in zip(voices, sources, strict=True)]
        )
    except InvalidParams as exc:  # weights: checked above, the engine checks again
        raise ApiError(exc.message, details={"sources": [exc.message]}) from exc
    total = sum(float(source.weight) for source in sources)
    records = [_source_record(v, float(s.weight) / total) for v, s in zip(voices, sources, strict=True)]
    try:
        with transaction.atomic():
            voice = Voice.objects.create(
                owner=user,
                name=name,
                description=str(description or "")[:1000],
                language=language,
                languages=list(info.languages),
                engine=info.name,
                is_builtin=False,
                status=Voice.Status.READY,
                conditioning=conditioning,
                conditioning_engine=info.name,
                conditioned_at=timezone.now(),
                blended_from=records,
            )
            consent = ConsentRecord.objects.create(
                **consent_witness(user=user, voice=voice),
                statement=BLEND_CONSENT_STATEMENT,
                sample_sha256=[],
                blend_sources=records,
            )
            audit_record(
                action="voice.blended",
                user=user,
                target_type="voice",
                target_id=str(voice.pk),
                details={"name": voice.name, "sources": records, "consent_id": str(consent.pk)},
            )
    except IntegrityError as exc:
        raise Conflict(
            f"You already have a voice named {name!r}.", details={"name": ["voice names must be unique"]}
        ) from exc
    voice.refresh_from_db()
    return voice
