"""The schema states every rule the server enforces (issue 23 item 8): a request that
/openapi.json calls valid is never refused with a 400 for a rule it does not say. The
API-wide rules (no NUL in any text, integers within 64 bits, what an unknown body
property may hold) are on every string, integer and JSON body (core/openapi.py); limits
are in the fields; a request that is well-formed but refused for its meaning is a 422.
tests/web_platform/test_schemathesis_live.py checks the whole schema with the
generator's defaults; these name each rule."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from productions.models import Production

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):  # type: ignore[no-untyped-def]
    return client.get("/openapi.json").json()


def _nodes(node: Any) -> Any:
    """Every schema node, but not what a `not` excludes."""
    if isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key != "not":
                yield from _nodes(value)
    elif isinstance(node, list):
        for item in node:
            yield from _nodes(item)


def test_no_string_of_the_schema_admits_a_nul_character(schema):
    strings = [
        n for n in [*_nodes(schema["paths"]), *_nodes(schema["components"]["schemas"])] if n.get("type") == "string"
    ]
    admitting_nul = [
        n for n in strings
        if not ({"enum", "format"} & n.keys()) and not ("pattern" in n and not re.search(n["pattern"], "a\x00b"))
    ]  # fmt: skip
    assert strings
    assert admitting_nul == [], admitting_nul[:5]


def test_every_integer_is_bounded_to_64_bits(schema):
    integers = [
        n for n in [*_nodes(schema["paths"]), *_nodes(schema["components"]["schemas"])] if n.get("type") == "integer"
    ]
    assert integers
    assert all(n.get("maximum", 2**64) <= 2**63 - 1 and n.get("minimum", -(2**64)) >= -(2**63 - 1) for n in integers)


def test_a_query_parameter_with_a_nul_is_outside_the_schema_and_refused(schema, owner_api):
    engine = next(p for p in schema["paths"]["/api/v1/voices"]["get"]["parameters"] if p["name"] == "engine")
    assert re.search(engine["schema"]["pattern"], "pi\x00per") is None
    assert owner_api.get("/api/v1/voices", {"engine": "pi\x00per"}).status_code == 400


def test_the_schema_says_how_many_samples_one_request_may_carry(schema, settings):
    for component in ("VoiceCreateRequest", "SampleAddRequest"):
        assert (
            schema["components"]["schemas"][component]["properties"]["samples"]["maxItems"]
            == settings.VOICE_MAX_SAMPLES
        )


def test_more_samples_than_the_schema_allows_are_refused_naming_the_setting(owner_api, settings):
    settings.VOICE_MAX_SAMPLES = 1
    samples = [SimpleUploadedFile(f"{i}.wav", b"RIFF", content_type="audio/wav") for i in range(2)]
    response = owner_api.post(
        "/api/v1/voices", {"name": "Two", "consent": "true", "samples": samples}, format="multipart"
    )
    assert response.status_code == 400
    assert "VOICE_MAX_SAMPLES" in str(response.json()["error"]["details"]["samples"])


@pytest.mark.usefixtures("piper_only")
def test_an_empty_production_file_is_well_formed_and_refused_for_its_meaning_with_422(schema, owner_api, owner):
    upload = SimpleUploadedFile("book.txt", b"")
    response = owner_api.post("/api/v1/productions", {"file": upload, "voice": "joe"}, format="multipart")
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "unprocessable" and "empty" in response.json()["error"]["message"]
    assert not Production.objects.filter(owner=owner).exists()
    assert "422" in schema["paths"]["/api/v1/productions"]["post"]["responses"]


def test_an_expiry_in_the_past_is_a_documented_422(schema):
    assert "422" in schema["paths"]["/api/v1/keys"]["post"]["responses"]
