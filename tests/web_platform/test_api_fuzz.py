"""Property-based: generated junk (any unicode with NUL, huge and non-finite numbers,
wrong types, nesting) in every JSON body field, query parameter and path parameter of
every operation of the API never gets a 5xx, and every 4xx carries the error body (the
OpenAI shape on /v1/...).

The operations come from the OpenAPI schema that drf-spectacular builds from the URLconf,
so a new endpoint is covered the day it is added. The example budget is bounded and
derandomized so that it fits CI (well under a minute per database); run it on SQLite and
on PostgreSQL (DATABASE_URL), where NUL and over-long text used to raise DataError.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]

EXAMPLES_PER_OPERATION = 50


def _schema() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


SCHEMA = _schema()
OPERATIONS = [
    (method.upper(), path, operation)
    for path, methods in SCHEMA["paths"].items()
    for method, operation in methods.items()
    if method in ("get", "post", "put", "patch", "delete")
]


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref:
        name = ref.rsplit("/", 1)[1]
        return _resolve(SCHEMA["components"]["schemas"][name])
    return node


# ------------------------------------------------------------------ junk

NASTY_STRINGS = [
    "", "\x00", "a\x00b", "9" * 5000, "-1", "0", "1e999", "NaN", "null", "true", "[]", "{}",
    "2026-02-30", "2026-13-45", "9999-12-31", "0000-00-00", "../../etc/passwd", "'; DROP TABLE x; --",
    "\u202e\ufeff\u200b", "💥" * 50, "x" * 300,
]  # fmt: skip
# Indexes rather than the strings, so that a failure report stays readable.
nasty = st.sampled_from(range(len(NASTY_STRINGS))).map(NASTY_STRINGS.__getitem__)
junk_text = st.one_of(st.text(max_size=40), nasty)
junk_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**60), max_value=10**60),
    st.floats(),  # NaN and ±Infinity too: json.dumps writes them as bare tokens
    junk_text,
)
junk_json = st.recursive(
    junk_scalar, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(junk_text, inner, max_size=3), max_leaves=8
)
# Deep nesting is spliced into the encoded body as text: building it as Python objects
# would hit the recursion limit in the test itself.
_DEEP = "\ue000deep:{}\ue000"
_DEEP_TOKEN = re.compile(r'"\\ue000deep:(\d+)\\ue000"')
deep_marker = st.integers(min_value=30, max_value=5000).map(_DEEP.format)


def _encode(value: Any) -> bytes:
    text = json.dumps(value)  # ensure_ascii: the marker is written as \ue000…
    return _DEEP_TOKEN.sub(lambda m: "[" * int(m.group(1)) + "]" * int(m.group(1)), text).encode()


def _plausible(prop: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values of the declared type (enums included), so that junk also reaches the
    checks behind the first type check."""
    prop = _resolve(prop)
    if "enum" in prop:
        return st.sampled_from([v for v in prop["enum"] if v is not None] or [None])
    kind = prop.get("type")
    if kind == "string":
        return junk_text
    if kind == "integer":
        return st.integers(min_value=-(2**70), max_value=2**70)
    if kind == "number":
        return st.floats()
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        return st.lists(_plausible(prop.get("items", {})) if prop.get("items") else junk_scalar, max_size=4)
    return junk_json


def _field_value(prop: dict[str, Any]) -> st.SearchStrategy[Any]:
    return st.one_of(_plausible(prop), junk_json, deep_marker)


def _body_strategy(operation: dict[str, Any]) -> st.SearchStrategy[bytes | None]:
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return st.none()
    schema = _resolve(content["application/json"]["schema"])
    properties = schema.get("properties", {})
    fields = st.fixed_dictionaries({}, optional={name: _field_value(prop) for name, prop in properties.items()})
    encoded = st.one_of(fields, fields, fields, junk_json, deep_marker).map(_encode)
    unterminated = st.integers(min_value=1, max_value=100_000).map(lambda depth: b'{"a":' * depth)
    return st.one_of(encoded, encoded, encoded, unterminated, st.binary(max_size=40))


def _query_strategy(operation: dict[str, Any]) -> st.SearchStrategy[dict[str, str]]:
    names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    if not names:
        return st.just({})
    return st.dictionaries(st.sampled_from(names), junk_text, max_size=len(names))


# ------------------------------------------------------------------ the property


@pytest.fixture
def owner_objects(owner) -> dict[str, list[str]]:
    """Real ids of the owner's objects, so that junk also reaches views past the 404."""
    from synthesis.models import SynthesisJob
    from voices.models import Voice

    voice = Voice.objects.create(owner=owner, name="Grandpa", language="en", engine="xtts", status="ready")
    job = SynthesisJob.objects.create(
        owner=owner, voice_name="joe", voice_builtin=True, engine="piper", language="en", text="hi"
    )
    return {"voice_id": [str(voice.pk)], "job_id": [str(job.pk)]}


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):  # type: ignore[no-untyped-def]
    settings.RATE_LIMIT_REQUESTS = 10**9


def _path_strategy(path: str, operation: dict[str, Any], real: dict[str, list[str]]) -> st.SearchStrategy[str]:
    names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
    parts = {
        name: st.one_of(st.sampled_from(real[name]), junk_text.filter(bool)) if name in real else junk_text.filter(bool)
        for name in names
    }
    return st.fixed_dictionaries(parts).map(
        lambda values: path.format(**{name: quote(value, safe="") for name, value in values.items()})
    )


def _check(method: str, url: str, body: bytes | None, response: Any) -> None:
    where = f"{method} {url} body={body[:200] if body else body!r}"
    assert response.status_code < 500, f"{where} -> {response.status_code}"
    if response.status_code < 400:
        return
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    payload = json.loads(raw)
    error = payload["error"]
    if url.startswith("/v1/"):
        assert {"message", "type", "param", "code"} <= set(error), where
    else:
        assert set(error) == {"code", "message", "details"}, where
        assert isinstance(error["code"], str) and error["code"] and isinstance(error["message"], str), where
        assert isinstance(error["details"], dict), where


def test_every_operation_of_the_schema_is_fuzzed():
    covered = {f"{method} {path}" for method, path, _ in OPERATIONS}
    assert {
        "POST /api/v1/synthesis",
        "GET /api/v1/usage",
        "POST /v1/audio/speech",
        "PATCH /api/v1/voices/{voice_id}",
    } <= covered


@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_junk_never_gets_a_5xx_and_every_4xx_has_the_error_body(owner_api, owner_objects, method, path, operation):
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(
        url=_path_strategy(path, operation, owner_objects),
        query=_query_strategy(operation),
        body=_body_strategy(operation),
    )
    def run(url: str, query: dict[str, str], body: bytes | None) -> None:
        full = f"{url}?{urlencode(query)}" if query else url
        if body is None:
            response = owner_api.generic(method, full)
        else:
            response = owner_api.generic(method, full, body, content_type="application/json")
        _check(method, full, body, response)

    run()
