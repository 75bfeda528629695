r"""Schemathesis hooks for tests/web_platform/test_schemathesis_live.py (SCHEMATHESIS_HOOKS).

A rule JSON Schema cannot state, told to the generator instead of relaxing a check:
an API key's `expires_at` must be in the future ("expires_at must be in the future" is
a 400), and a schema has no "after now". A generated date-time in the past is moved to
the same moment of a future year, so positive data stays schema-valid and must still be
accepted (no 400 is allowed for key creation); anything that is not a date-time (a
negative case) is left exactly as generated.

Three more rules of the same kind, each told to the generator here:
- `emotions` on voice creation and sample upload: each item is an enum value (the
  schema says so), but the count must be one per sample or none, a cross-field rule JSON
  Schema cannot state (a 400 otherwise). A generated list of valid labels is cycled or cut
  to the number of samples; a list holding anything else (a negative case) is left alone.
- The text to speak must hold at least one letter or digit outside emotion tags (else a
  400 "text has no letters or digits to speak"); a portable schema pattern cannot name
  Unicode letters (ECMA-262 `\w` is ASCII), so the field's description says it instead.
  A generated text with nothing to speak gets its last character replaced by "a"; any
  non-string (a negative case) is left alone.
- Markup must be well-formed XML (docs/pronunciation.md; a 400 with its line and column
  otherwise), which no schema pattern can state: a text sent with `text_format: "ssml"`
  becomes a `<speak>` document holding it (escaped, without the characters XML 1.0 does
  not allow), and a plain text that happens to hold an inline tag's opening (`<break`,
  `<sub`, …) gets its `<` replaced by `‹`, so it stays plain text."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import schemathesis

from speech.markup import has_markup
from speech.text import EMOTIONS, has_speech

KEY_CREATION = "api_v1_keys_create"
SAMPLE_UPLOADS = ("api_v1_voices_create", "api_v1_voices_samples_create")
TEXT_TO_SPEAK = (
    "api_v1_synthesis_create",
    "api_v1_synthesis_stream_create",
    "api_v1_productions_create",
    "api_v1_productions_segments_regenerate_create",  # its optional new text follows the same rule
)
OPENAI_SPEECH = "v1_audio_speech_create"


def _in_the_future(body: Any) -> Any:
    if not isinstance(body, dict) or not isinstance(body.get("expires_at"), str):
        return body
    text = body["expires_at"]
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return body
    now = datetime.now(moment.tzinfo or UTC)
    if moment > now:
        return body
    # Keep the generated spelling (offset, fraction, separator); only the year changes, to
    # a leap year so that a generated 29 February stays a real day.
    year = next(y for y in range(now.year + 1, now.year + 9) if y % 4 == 0 and (y % 100 or y % 400 == 0))
    return {**body, "expires_at": f"{year:04d}{text[4:]}"}


@schemathesis.hook("map_body").apply_to(operation_id=KEY_CREATION)
def expires_at_in_the_future(context: Any, body: Any) -> Any:
    return _in_the_future(body)


@schemathesis.hook("map_case").apply_to(operation_id=KEY_CREATION)
def expires_at_in_the_future_case(context: Any, case: Any) -> Any:
    case.body = _in_the_future(case.body)
    return case


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
    if not has_speech(body[field]):
        body = {**body, field: body[field][:-1] + "a"}
    return _well_formed_markup(body, field)


def _xml_char(c: str) -> bool:
    code = ord(c)
    return c in "\t\n\r" or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or code >= 0x10000


def _well_formed_markup(body: dict, field: str) -> dict:
    text = body[field]
    if body.get("text_format") == "ssml":
        kept = "".join(c for c in text if _xml_char(c))
        kept = kept if has_speech(kept) else kept + " a"
        escaped = kept.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return {**body, field: f"<speak>{escaped}</speak>"}
    if has_markup(text):
        return {**body, field: text.replace("<", "\u2039")}
    return body


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
