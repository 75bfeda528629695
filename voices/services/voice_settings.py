"""A voice's default generation parameters (docs/voice-cloning.md, "Voice settings").

A voice stores a subset of SynthesisParams' keys (`Voice.settings`); a synthesis
request's own values win over them, and they win over the engine's defaults. The one
place that resolves the three is synthesis.services.job_params_resolve, so every route
(REST, streams, OpenAI, ElevenLabs, websockets, productions) gets the same answer.

Changes are merge patches: a key with a value sets it, a key with null removes it (the
engine's default applies again), a key left out is kept. The result is checked as a
whole with SynthesisParams, so an out-of-range value is a 400 naming the parameter and
nothing is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.errors import ApiError
from monitoring.services import audit_record
from speech.engines.errors import InvalidParams
from speech.engines.params import SynthesisParams
from voices.models import Voice

# ElevenLabs' voice settings that no engine knob matches: kept and read back only.
ELEVENLABS_EXTRAS = ("similarity_boost", "style", "use_speaker_boost")


def _builtin_immutable() -> ApiError:
    return ApiError("Built-in voices cannot be changed or deleted.", code="permission_denied", status_code=403)


def voice_settings_check(settings: Mapping[str, Any], *, prefix: str = "settings") -> dict[str, Any]:
    """The settings as stored (null values dropped), or a 400 naming the first bad one:
    an unknown key, a wrong type, a value outside its range (speech.engines.params)."""
    if not isinstance(settings, Mapping):
        raise ApiError(f"{prefix} must be an object.", details={prefix: ["must be an object"]})
    kept = {str(key): value for key, value in settings.items() if value is not None}
    try:
        SynthesisParams.from_dict(kept)
    except InvalidParams as exc:
        field = f"{prefix}.{exc.field}" if exc.field else prefix
        raise ApiError(f"{field}: {exc.message}.", details={field: [exc.message]}) from exc
    return kept


def voice_settings_update(
    *, voice: Voice, changes: Mapping[str, Any], elevenlabs: Mapping[str, Any] | None = None
) -> Voice:
    """Merge `changes` into the voice's settings (null removes a key), and, from an
    ElevenLabs client, `elevenlabs` into its ElevenLabs-only knobs. 403 for a built-in
    voice; 400 naming the parameter when the result is out of range."""
    if voice.is_builtin:
        raise _builtin_immutable()
    if not isinstance(changes, Mapping):
        raise ApiError("settings must be an object.", details={"settings": ["must be an object"]})
    with transaction.atomic():
        locked = Voice.objects.select_for_update().defer("conditioning").get(pk=voice.pk)
        merged = {**(locked.settings or {}), **dict(changes)}
        stored = voice_settings_check(merged)
        extras = {**(locked.elevenlabs_settings or {}), **dict(elevenlabs or {})}
        extras = {key: value for key, value in extras.items() if key in ELEVENLABS_EXTRAS and value is not None}
        Voice.objects.filter(pk=locked.pk).update(
            settings=stored, elevenlabs_settings=extras, updated_at=timezone.now()
        )
        audit_record(
            action="voice.settings_updated",
            user=locked.owner,
            target_type="voice",
            target_id=str(locked.pk),
            details={"settings": stored, **({"elevenlabs": extras} if elevenlabs else {})},
        )
    voice.refresh_from_db()
    return voice
