r"""Schemathesis hooks for tests/web_platform/test_schemathesis_live.py (SCHEMATHESIS_HOOKS).

Rules JSON Schema cannot state, each told to the generator here instead of relaxing a
check (an expiry in the past, refused for its meaning, is a documented 422 instead:
schemathesis.toml):
- `emotions` on voice creation and sample upload: each item is an enum value (the
  schema says so), but the count must be one per sample or none, a cross-field rule JSON
  Schema cannot state (a 400 otherwise). A generated list of valid labels is cycled or cut
  to the number of samples; a list holding anything else (a negative case) is left alone.
- The text to speak must hold at least one letter or digit outside emotion tags (else a
  400 "text has no letters or digits to speak"); a portable schema pattern cannot name
  Unicode letters (ECMA-262 `\w` is ASCII), so the field's description says it instead.
  A generated text with nothing to speak gets its last character replaced by "a"; any
  non-string (a negative case) is left alone."""

from __future__ import annotations

from typing import Any

import schemathesis

from speech.text import EMOTIONS, has_speech

SAMPLE_UPLOADS = ("api_v1_voices_create", "api_v1_voices_samples_create")
TEXT_TO_SPEAK = ("api_v1_synthesis_create", "api_v1_synthesis_stream_create", "api_v1_productions_create")
OPENAI_SPEECH = "v1_audio_speech_create"


def _one_label_per_sample(body: Any) -> Any:
    if not isinstance(body, dict):
        return body
    samples, emotions = body.get("samples"), body.get("emotions")
    if not (isinstance(samples, list) and samples and isinstance(emotions, list) and emotions):
        return body
    if len(emotions) == len(samples) or not all(label in EMOTIONS for label in emotions):
        return body
    return {**body, "emotions": [emotions[i % len(emotions)] for i in range(len(samples))]}


@schemathesis.hook("map_body").apply_to(operation_id=SAMPLE_UPLOADS)
def one_label_per_sample(context: Any, body: Any) -> Any:
    return _one_label_per_sample(body)


@schemathesis.hook("map_case").apply_to(operation_id=SAMPLE_UPLOADS)
def one_label_per_sample_case(context: Any, case: Any) -> Any:
    case.body = _one_label_per_sample(case.body)
    return case


def _something_to_speak(body: Any, field: str) -> Any:
    if not isinstance(body, dict) or not isinstance(body.get(field), str) or not body[field]:
        return body
    if has_speech(body[field]):
        return body
    return {**body, field: body[field][:-1] + "a"}


# map_body for the generated bodies of every phase, map_case for the stateful phase's
# (as for the other rules above).
@schemathesis.hook("map_body").apply_to(operation_id=TEXT_TO_SPEAK)
def text_with_something_to_speak_body(context: Any, body: Any) -> Any:
    return _something_to_speak(body, "text")


@schemathesis.hook("map_body").apply_to(operation_id=OPENAI_SPEECH)
def input_with_something_to_speak_body(context: Any, body: Any) -> Any:
    return _something_to_speak(body, "input")


@schemathesis.hook("map_case").apply_to(operation_id=TEXT_TO_SPEAK)
def text_with_something_to_speak(context: Any, case: Any) -> Any:
    case.body = _something_to_speak(case.body, "text")
    return case


@schemathesis.hook("map_case").apply_to(operation_id=OPENAI_SPEECH)
def input_with_something_to_speak(context: Any, case: Any) -> Any:
    case.body = _something_to_speak(case.body, "input")
    return case
