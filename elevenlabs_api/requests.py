"""The text-to-speech request body, read and checked, and ElevenLabs' `voice_settings`
mapped to Speaker's engine parameters (docs/compatibility.md "ElevenLabs-compatible API", the mapping
table):

- `speed` → `speed` (Speaker accepts 0.25-4.0);
- `stability` (0-1) → how much the delivery varies: XTTS's sampling `temperature`
  (0.75 × (1.5 − stability): 1.125 at 0, Speaker's default 0.75 at ElevenLabs' default
  0.5, 0.375 at 1) and Piper's `variability` (0.667 × (1.5 − stability));
- `seed` → `seed` (the same seed and text give the same audio on XTTS);
- `language_code` → the job's `language`;
- `similarity_boost`, `style`, `use_speaker_boost`: no engine knob matches them; they
  are checked and ignored. Emotion tags in the text (`[happy] …`) are Speaker's style.
- `model_id` is accepted and ignored: the voice decides the engine (built-in voices
  speak with their own engine, clones with the cloning engine).
- `pronunciation_dictionary_locators` (up to 3, applied in order) → the job's
  pronunciation dictionaries; `enable_ssml_parsing: true` → the text is read as an SSML
  document (docs/pronunciation.md).
Every other body field ElevenLabs defines (previous_text, …) is accepted and ignored."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from speech.engines.params import SynthesisParams

TEMPERATURE_AT_HALF = SynthesisParams().temperature
VARIABILITY_AT_HALF = SynthesisParams().variability
SEED_MAX = 4_294_967_295  # ElevenLabs' range


class BadRequest(ValueError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message, self.field = message, field


@dataclass(frozen=True)
class SpeechBody:
    text: str
    language: str | None
    params: dict[str, Any]
    model_id: str | None
    # (dictionary id, version id or None) in order; None: the account's default.
    dictionaries: tuple[tuple[str, str | None], ...] | None = None
    ssml: bool = False


MAX_LOCATORS = 3


def dictionary_locators(value: Any) -> tuple[tuple[str, str | None], ...] | None:
    if value is None:
        return None
    field = "pronunciation_dictionary_locators"
    if not isinstance(value, list):
        raise BadRequest(f"{field} must be a list.", field)
    if len(value) > MAX_LOCATORS:
        raise BadRequest(f"{field} may name at most {MAX_LOCATORS} dictionaries; {len(value)} were given.", field)
    out: list[tuple[str, str | None]] = []
    for item in value:
        if not isinstance(item, Mapping) or not isinstance(item.get("pronunciation_dictionary_id"), str):
            raise BadRequest(f"Each of {field} needs pronunciation_dictionary_id.", field)
        version = item.get("version_id")
        if version is not None and not isinstance(version, str):
            raise BadRequest(f"{field}: version_id must be a string.", field)
        out.append((item["pronunciation_dictionary_id"], version or None))
    return tuple(out)


def _unit(settings: Mapping[str, Any], name: str) -> float | None:
    value = settings.get(name)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0.0 <= value <= 1.0
    ):
        raise BadRequest(f"voice_settings.{name} must be a number from 0 to 1.", f"voice_settings.{name}")
    return float(value)


def voice_settings_params(settings: Any) -> dict[str, Any]:
    """Speaker's engine parameters for ElevenLabs' `voice_settings` (see the module doc)."""
    if settings is None:
        return {}
    if not isinstance(settings, Mapping):
        raise BadRequest("voice_settings must be an object.", "voice_settings")
    params: dict[str, Any] = {}
    stability = _unit(settings, "stability")
    if stability is not None:
        params["temperature"] = round(TEMPERATURE_AT_HALF * (1.5 - stability), 4)
        params["variability"] = round(VARIABILITY_AT_HALF * (1.5 - stability), 4)
    for ignored in ("similarity_boost", "style"):
        _unit(settings, ignored)
    boost = settings.get("use_speaker_boost")
    if boost is not None and not isinstance(boost, bool):
        raise BadRequest("voice_settings.use_speaker_boost must be true or false.", "voice_settings.use_speaker_boost")
    speed = settings.get("speed")
    if speed is not None:
        if (
            isinstance(speed, bool)
            or not isinstance(speed, (int, float))
            or not math.isfinite(speed)
            or not 0.25 <= speed <= 4.0
        ):
            raise BadRequest("voice_settings.speed must be a number from 0.25 to 4.0.", "voice_settings.speed")
        params["speed"] = float(speed)
    return params


def stability_for(temperature: float) -> float:
    """The `stability` that voice_settings_params maps to `temperature`, for reading a
    voice's settings back in ElevenLabs' terms (clamped to 0-1: Speaker's own API may
    set a temperature no stability reaches)."""
    return round(min(1.0, max(0.0, 1.5 - float(temperature) / TEMPERATURE_AT_HALF)), 4)


def speech_body(body: Any) -> SpeechBody:
    if not isinstance(body, Mapping):
        raise BadRequest("The request body must be a JSON object.", "body")
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("text is required: the text to speak.", "text")
    language = body.get("language_code")
    if language is not None and (not isinstance(language, str) or not language.strip()):
        raise BadRequest("language_code must be a language code such as 'en', or left out.", "language_code")
    model_id = body.get("model_id")
    if model_id is not None and not isinstance(model_id, str):
        raise BadRequest("model_id must be a string.", "model_id")
    params = voice_settings_params(body.get("voice_settings"))
    seed = body.get("seed")
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
            raise BadRequest(f"seed must be a whole number from 0 to {SEED_MAX}.", "seed")
        params["seed"] = seed
    ssml = body.get("enable_ssml_parsing", False)
    if not isinstance(ssml, bool):
        raise BadRequest("enable_ssml_parsing must be true or false.", "enable_ssml_parsing")
    return SpeechBody(
        text=text,
        language=language.strip().lower() if language else None,
        params=params,
        model_id=model_id,
        dictionaries=dictionary_locators(body.get("pronunciation_dictionary_locators")),
        ssml=ssml,
    )
