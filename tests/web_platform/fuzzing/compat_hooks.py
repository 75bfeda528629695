"""Schemathesis hooks for tests/web_platform/test_compat_fuzz_live.py (SCHEMATHESIS_HOOKS):
hostile values the generator does not make by itself, drawn by hypothesis into the bodies
it generates from docs/openapi/elevenlabs.json and docs/openapi/openai.json.

Schemathesis draws strings from encodable characters only (no lone surrogates), and
nests a body only as deep as its schema. A client can still send both: a JSON body with
`"\\ud800"` escapes is valid JSON (RFC 8259 allows the escape), and nothing stops a
client from nesting a value thousands of levels deep. So each generated body is, at
hypothesis' choice, sent as generated or with one value replaced or added:
- a string holding a lone surrogate (JSON bodies only: a form field is UTF-8 on the wire,
  where a lone surrogate has no encoding) or a NUL character,
- a value nested a few hundred levels deep (JSON bodies), or a JSON text nested that deep
  in a form field (ElevenLabs' `labels` is a JSON object sent as a form field).
NUL characters in query strings and form fields come from the generator itself
(compat.toml keeps its default, allow-x00)."""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from hypothesis import strategies as st

# Each with letters beside it: a text with nothing to speak is refused before it is stored.
SURROGATES = ["\ud800 Hello", "Hello \udfff", "\udc00Hello\ud800"]
NULS = ["Hello\x00 world", "\x00Hello"]
# Deep enough to reach a recursive parser's limits on the server (Python's default
# recursion limit is 1000 frames), shallow enough for the client's own json.dumps.
DEPTHS = st.integers(min_value=100, max_value=900)
NEW_FIELD = "speaker_fuzz"
# The fields the server stores or speaks, tried before any other (a generated body holds
# many optional fields Speaker accepts and ignores).
TEXT_FIELDS = ("text", "input", "name", "description")


def _nested(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


def _leaves(value: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _leaves(item, (*path, key))]
    if isinstance(value, list):
        return [leaf for index, item in enumerate(value) for leaf in _leaves(item, (*path, index))]
    return [path] if path else []


def _replace(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replace(copy[head], rest, new)
    return copy


# The operations whose body is multipart/form-data (the rest send JSON).
FORM_OPERATIONS = {
    ("POST", "/v1/voices/add"),
    ("POST", "/v1/audio/voice_consents"),
    ("POST", "/v1/audio/voices"),
    ("POST", "/v1/pronunciation-dictionaries/add-from-file"),
}


def _is_form(context: Any) -> bool:
    operation = getattr(context, "operation", None)
    return operation is not None and (operation.method.upper(), operation.path) in FORM_OPERATIONS


def _hostile(body: Any, form: bool) -> st.SearchStrategy[Any]:
    strings = st.sampled_from(NULS if form else SURROGATES + NULS)
    deep = DEPTHS.map(lambda depth: json.dumps(_nested(depth)) if form else _nested(depth))
    new_value = st.one_of(strings, deep)
    if not isinstance(body, dict):
        return new_value if not form else st.just(body)
    # Hypothesis tries the first choices first: a documented field holding the hostile
    # value, where the server reads it, before an unknown one.
    choices: list[st.SearchStrategy[Any]] = []
    if form and "labels" in body:
        choices.append(DEPTHS.map(lambda depth: {**body, "labels": json.dumps(_nested(depth))}))
    spoken = [(field,) for field in TEXT_FIELDS if isinstance(body.get(field), str)]
    if spoken:
        choices.append(st.tuples(st.sampled_from(spoken), new_value).map(lambda pair: _replace(body, *pair)))
    targets = _leaves(body)
    if targets:
        choices.append(
            st.tuples(st.sampled_from(targets), new_value).map(lambda pair: _replace(body, pair[0], pair[1]))
        )
    choices.append(new_value.map(lambda new: {**body, NEW_FIELD: new}))
    return st.one_of(choices)


@schemathesis.hook("flatmap_body")
def hostile_values(context: Any, body: Any) -> st.SearchStrategy[Any]:
    # Bodies with one hostile value first, and as generated (schema-valid data must still
    # be answered well; the examples and coverage phases send those too).
    return st.one_of(_hostile(body, _is_form(context)), st.just(body))
