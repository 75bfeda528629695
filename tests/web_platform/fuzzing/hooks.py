r"""Schemathesis hooks for tests/web_platform/test_schemathesis_live.py (SCHEMATHESIS_HOOKS).

Rules the schema cannot state, each told to the generator here instead of relaxing a
check (a rule about a request's meaning -- an expiry in the past, an emotion count that
does not match the samples, an empty file -- is a documented 422 instead: schemathesis.toml):
- A key of a JSON body never holds NUL: the server's JSON reader refuses NUL anywhere in
  a body (core/parsers.py), and the schema says so of every value, but OpenAPI 3.0 has no
  `propertyNames` to say it of the keys of unknown properties (JsonValue in
  core/openapi.py). A NUL in a generated key is dropped; values are left as generated.
- The text to speak must hold at least one letter or digit outside emotion tags (else a
  400 "text has no letters or digits to speak"); a portable schema pattern cannot name
  Unicode letters (ECMA-262 `\w` is ASCII), so the field's description says it instead.
  A generated text with nothing to speak gets its last character replaced by "a"; any
  non-string (a negative case) is left alone."""

from __future__ import annotations

from typing import Any

import schemathesis

from speech.text import has_speech

TEXT_TO_SPEAK = ("api_v1_synthesis_create", "api_v1_synthesis_stream_create", "api_v1_productions_create")
OPENAI_SPEECH = "v1_audio_speech_create"


def _keys_without_nul(value: Any) -> Any:
    if isinstance(value, dict):
        return {key.replace("\x00", ""): _keys_without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_keys_without_nul(item) for item in value]
    return value


@schemathesis.hook("map_body")
def json_keys_without_nul_body(context: Any, body: Any) -> Any:
    return _keys_without_nul(body)


@schemathesis.hook("map_case")
def json_keys_without_nul(context: Any, case: Any) -> Any:
    if isinstance(case.body, (dict, list)):
        case.body = _keys_without_nul(case.body)
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
