"""The schema states every rule the server enforces (issue 23 item 8): a request that
/openapi.json calls valid is never refused with a 400 for a rule it does not say. The
API-wide rules (no NUL in any text, integers within 64 bits, no property a body's
object does not name) are on every string, integer and request body (core/openapi.py,
core/serializers.py); limits
are in the fields; a request that is well-formed but refused for its meaning is a 422.
tests/web_platform/test_schemathesis_live.py checks the whole schema with the
generator's defaults; these name each rule."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from productions.models import Production
from synthesis.models import SynthesisJob

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


def _request_objects(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(operation, object schema) for every object a request body is made of."""
    components = schema["components"]["schemas"]
    found: list[tuple[str, dict[str, Any]]] = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                stack, seen = [media["schema"]], set()
                while stack:
                    node = stack.pop()
                    if isinstance(node, list):
                        stack.extend(node)
                    elif isinstance(node, dict):
                        ref = node.get("$ref", "")
                        if ref:
                            if ref not in seen:
                                seen.add(ref)
                                stack.append(components[ref.rsplit("/", 1)[1]])
                            continue
                        if "properties" in node:
                            found.append((f"{method.upper()} {path}", node))
                        stack.extend(v for k, v in node.items() if k not in ("example", "additionalProperties"))
    return found


def test_every_object_of_every_request_body_names_all_it_takes(schema):
    objects = _request_objects(schema)
    assert len({operation for operation, _ in objects}) >= 25
    assert [operation for operation, node in objects if node.get("additionalProperties") is not False] == []


@pytest.mark.usefixtures("piper_only")
def test_a_field_speakers_api_does_not_take_is_refused_naming_it(owner_api, owner):
    response = owner_api.post("/api/v1/synthesis", {"text": "Hi.", "voice": "joe", "vioce": "joe"}, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert "vioce" in error["details"] and "voice" in str(error["details"]["vioce"])
    assert not SynthesisJob.objects.filter(owner=owner).exists()


def test_an_unknown_form_field_is_refused_like_an_unknown_json_field(owner_api):
    upload = SimpleUploadedFile("a.wav", b"RIFF", content_type="audio/wav")
    response = owner_api.post(
        "/api/v1/voices", {"name": "Ann", "consent": "true", "samples": [upload], "colour": "red"}, format="multipart"
    )
    assert response.status_code == 400 and "colour" in response.json()["error"]["details"]


def test_a_rule_holding_a_key_its_kind_does_not_take_is_refused(owner_api):
    rule = {"string_to_replace": "TTS", "type": "alias", "alias": "text to speech", "phoneme": "ti"}
    response = owner_api.post("/api/v1/pronunciation-dictionaries", {"name": "N", "rules": [rule]}, format="json")
    assert response.status_code == 400 and "phoneme" in str(response.json()["error"]["details"])


def test_an_argument_openais_speech_route_does_not_take_is_refused_in_openais_words(owner_api):
    body = {"model": "tts-1", "input": "Hi.", "voice": "alloy", "volume": 11}
    response = owner_api.post("/v1/audio/speech", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Unrecognized request argument supplied: volume"
    assert response.json()["error"]["param"] == "volume"


def test_bodies_holding_objects_are_not_offered_as_forms(schema):
    """A form cannot carry an object: a voice's PATCH (its `settings`) is JSON only, and a
    production upload takes no dictionary locators (it gets the default dictionary)."""
    assert list(schema["paths"]["/api/v1/voices/{voice_id}"]["patch"]["requestBody"]["content"]) == ["application/json"]
    upload = schema["components"]["schemas"]["ProductionUploadRequest"]["properties"]
    assert "file" in upload and "pronunciation_dictionary_locators" not in upload


def test_a_form_patch_of_a_voice_is_a_415(owner_api, owner):
    from voices.models import Voice

    voice = Voice.objects.create(owner=owner, name="Ann", language="en", engine="piper", status="ready")
    response = owner_api.patch(f"/api/v1/voices/{voice.pk}", {"name": "Bea"}, format="multipart")
    assert response.status_code == 415
    voice.refresh_from_db()
    assert voice.name == "Ann"


def test_a_rule_whose_type_is_not_a_string_is_a_400_not_a_500(owner_api):
    rule = {"string_to_replace": "TTS", "type": ["alias"], "alias": "text to speech"}
    response = owner_api.post("/api/v1/pronunciation-dictionaries", {"name": "N", "rules": [rule]}, format="json")
    assert response.status_code == 400, response.content
