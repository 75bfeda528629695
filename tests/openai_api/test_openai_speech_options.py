"""What OpenAI's speech options mean here: `instructions` words mapped to an emotion
preset and a pace (docs/compatibility.md "OpenAI's current speech API"), the models
accepted, and the token usage the SSE stream reports."""

from __future__ import annotations

import pytest

from openai_api.speech_options import (
    EMOTION_WORDS,
    instructions_params,
    is_instructed_model,
    speech_usage,
)
from speech.text import EMOTIONS


def test_every_mapped_word_names_a_preset_speaker_has():
    assert set(EMOTION_WORDS.values()) == set(EMOTIONS)


@pytest.mark.parametrize(
    ("instructions", "expected"),
    [
        ("Speak in a cheerful, upbeat tone.", {"speed": 1.0, "emotion": "happy"}),
        ("WHISPER it, slowly.", {"speed": 0.85, "emotion": "whisper"}),
        ("Somber and quick", {"speed": 1.15, "emotion": "sad"}),
        ("Sound like a pirate.", {"speed": 1.0}),
        ("", {"speed": 1.0}),
        ("calm, then angry", {"speed": 1.0, "emotion": "calm"}),  # the first preset named wins
        ("unhappy", {"speed": 1.0}),  # whole words only
    ],
)
def test_instructions_map_to_an_emotion_and_a_pace(instructions, expected):
    assert instructions_params(instructions, speed=1.0) == expected


def test_a_pace_word_keeps_speed_within_its_bounds():
    assert instructions_params("fast", speed=4.0)["speed"] == 4.0
    assert instructions_params("slowly", speed=0.25)["speed"] == 0.25


def test_a_request_without_speed_leaves_it_to_the_voice():
    # No speed in the request: the voice's own default speed applies (Voice.settings).
    assert instructions_params(None, speed=None) == {}
    assert instructions_params("sad", speed=None) == {"emotion": "sad"}
    assert instructions_params("slowly", speed=None)["speed"] == 0.85


@pytest.mark.parametrize("model", ["gpt-4o-mini-tts", "gpt-4o-mini-tts-2025-12-15", "gpt-4o-mini-tts-2026-03-01"])
def test_the_instructed_model_and_its_dated_variants_are_accepted(model):
    assert is_instructed_model(model)


@pytest.mark.parametrize("model", ["gpt-4o-mini-tts-latest", "gpt-4o-tts", "tts-1", "gpt-4o-mini-tts-2025-12"])
def test_other_names_are_not_the_instructed_model(model):
    assert not is_instructed_model(model)


def test_usage_counts_text_in_at_four_characters_a_token_and_audio_out_at_twenty_a_second():
    usage = speech_usage(text="x" * 38, instructions="calm", audio_seconds=2.01)

    assert usage == {"input_tokens": 11, "output_tokens": 41, "total_tokens": 52}
    assert speech_usage(text="", instructions=None, audio_seconds=0.0)["input_tokens"] == 1
