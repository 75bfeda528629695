"""ElevenLabs' voice_settings, seed, language_code and model_id mapped to Speaker's
engine parameters (docs/compatibility.md "ElevenLabs-compatible API")."""

from __future__ import annotations

import pytest

from elevenlabs_api.requests import BadRequest, speech_body, voice_settings_params
from speech.engines.params import SynthesisParams


def test_no_settings_leave_speakers_defaults():
    assert voice_settings_params(None) == {} and speech_body({"text": "Hi"}).params == {}


def test_elevenlabs_default_stability_gives_speakers_default_sampling():
    params = voice_settings_params({"stability": 0.5})
    defaults = SynthesisParams()
    assert params == {"temperature": defaults.temperature, "variability": defaults.variability}


def test_more_stability_means_less_variation_on_both_engines():
    calm, lively = voice_settings_params({"stability": 1.0}), voice_settings_params({"stability": 0.0})
    assert calm["temperature"] < SynthesisParams().temperature < lively["temperature"]
    assert calm["variability"] < SynthesisParams().variability < lively["variability"]
    SynthesisParams.from_dict(calm), SynthesisParams.from_dict(lively)  # both in the engines' ranges


def test_speed_passes_through():
    assert voice_settings_params({"speed": 1.15}) == {"speed": 1.15}


def test_unsupported_settings_are_checked_and_ignored():
    assert voice_settings_params({"similarity_boost": 0.75, "style": 0.2, "use_speaker_boost": True}) == {}


@pytest.mark.parametrize(
    ("voice_settings", "field"),
    [
        ({"stability": 1.5}, "voice_settings.stability"),
        ({"similarity_boost": "high"}, "voice_settings.similarity_boost"),
        ({"use_speaker_boost": "yes"}, "voice_settings.use_speaker_boost"),
        ({"speed": 9}, "voice_settings.speed"),
        ({"speed": True}, "voice_settings.speed"),
        ("calm", "voice_settings"),
    ],
)
def test_bad_settings_say_which_field(voice_settings, field):
    with pytest.raises(BadRequest) as bad:
        voice_settings_params(voice_settings)
    assert bad.value.field == field and field.split(".")[-1] in bad.value.message


def test_seed_and_language_are_taken_and_model_id_is_kept_aside():
    body = speech_body({"text": "Hi", "seed": 42, "language_code": "EN", "model_id": "eleven_multilingual_v2"})
    assert body.params == {"seed": 42} and body.language == "en" and body.model_id == "eleven_multilingual_v2"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "text"),
        ({"text": "  "}, "text"),
        ({"text": "x", "seed": -1}, "seed"),
        ({"text": "x", "seed": 1.5}, "seed"),
        ({"text": "x", "language_code": 3}, "language_code"),
        ([], "body"),
    ],
)
def test_a_bad_body_is_refused(body, field):
    with pytest.raises(BadRequest) as bad:
        speech_body(body)
    assert bad.value.field == field


def test_fields_elevenlabs_defines_but_speaker_has_not_are_ignored():
    body = speech_body(
        {
            "text": "Hi",
            "previous_text": "x",
            "pronunciation_dictionary_locators": [],
            "apply_text_normalization": "auto",
        }
    )
    assert body.text == "Hi"
