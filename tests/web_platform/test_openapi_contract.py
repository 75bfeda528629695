"""The schema tells the truth: what /openapi.json promises is what the API answers and
accepts, so a client generated from it works (issue "A contract clients can be
generated from")."""

from __future__ import annotations

import re
import uuid

import pytest

from speech import audio as audiomod
from synthesis.models import SynthesisJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):  # type: ignore[no-untyped-def]
    return client.get("/openapi.json").json()


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    if "allOf" in node and len(node["allOf"]) == 1:
        return {**resolve(schema, node["allOf"][0]), **{k: v for k, v in node.items() if k != "allOf"}}
    return node


def body_schema(schema: dict, path: str, method: str, status: str) -> dict:
    return resolve(schema, schema["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"])


def request_schema(schema: dict, path: str, method: str, media: str = "application/json") -> dict:
    return resolve(schema, schema["paths"][path][method]["requestBody"]["content"][media]["schema"])


def parameter(schema: dict, path: str, method: str, name: str) -> dict:
    return next(p for p in schema["paths"][path][method]["parameters"] if p["name"] == name)


# --- 1. Response schemas match responses ------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/synthesis", "/api/v1/voices", "/api/v1/keys"])
def test_every_list_is_documented_as_the_paginated_object_it_answers(schema, owner_api, path):
    documented = body_schema(schema, path, "get", "200")
    answered = owner_api.get(path).json()
    assert set(documented["properties"]) == set(answered) == {"count", "next", "previous", "results"}
    assert documented["properties"]["results"]["type"] == "array"


def test_usage_and_bulk_delete_document_their_bodies(schema, owner_api):
    usage = body_schema(schema, "/api/v1/usage", "get", "200")
    assert set(usage["properties"]) == set(owner_api.get("/api/v1/usage").json())
    deleted = body_schema(schema, "/api/v1/synthesis/bulk-delete", "post", "200")
    answered = owner_api.post("/api/v1/synthesis/bulk-delete", {"ids": [str(uuid.uuid4())]}, format="json").json()
    assert set(deleted["properties"]) == set(answered) == {"deleted"}


# --- 2. Request schemas match what is accepted ------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/voices", "/api/v1/voices/{voice_id}/samples"])
def test_uploads_require_samples_and_a_true_consent(schema, path):
    form = request_schema(schema, path, "post", "multipart/form-data")
    assert {"samples", "consent"} <= set(form["required"])
    assert form["properties"]["samples"]["minItems"] == 1
    assert resolve(schema, form["properties"]["consent"])["enum"] == [True]


def test_the_stream_documents_only_the_formats_it_streams(schema):
    body = request_schema(schema, "/api/v1/synthesis/stream", "post")
    assert resolve(schema, body["properties"]["format"])["enum"] == list(audiomod.STREAM_FORMATS)
    job = request_schema(schema, "/api/v1/synthesis", "post")
    assert set(resolve(schema, job["properties"]["format"])["enum"]) == set(audiomod.FORMATS)


def test_the_openai_speech_body_is_documented_as_json_with_its_models(schema):
    body = request_schema(schema, "/v1/audio/speech", "post")
    assert {"model", "input", "voice"} <= set(body["required"])
    pattern = re.compile(resolve(schema, body["properties"]["model"])["pattern"])
    accepted = ("tts-1", "tts-1-hd", "gpt-4o-mini-tts", "gpt-4o-mini-tts-2025-12-15")
    refused = ("tts-2", "gpt-4o-mini-tts-latest", "gpt-4o-mini-tts-2025-12", "whisper-1")
    assert all(pattern.search(name) for name in accepted) and not any(pattern.search(name) for name in refused)


@pytest.mark.parametrize("path", ["/api/v1/synthesis", "/api/v1/usage"])
def test_date_filters_declare_their_format(schema, path):
    for name in ("from", "to"):
        formats = {option.get("format") for option in parameter(schema, path, "get", name)["schema"]["anyOf"]}
        assert {"date", "date-time"} <= formats


def test_page_and_page_size_declare_their_bounds(schema):
    for path in ("/api/v1/synthesis", "/api/v1/voices", "/api/v1/keys"):
        # Every integer of the API fits 64 bits (core/openapi.py schema_states_every_rule).
        assert parameter(schema, path, "get", "page")["schema"] == {
            "type": "integer",
            "minimum": 1,
            "maximum": 2**63 - 1,
        }
        assert parameter(schema, path, "get", "page_size")["schema"] == {
            "type": "integer",
            "minimum": 1,
            "maximum": 100,
        }


def test_non_upload_endpoints_take_json_only(schema):
    for path, method in (
        ("/api/v1/synthesis", "post"),
        ("/api/v1/keys", "post"),
        ("/api/v1/synthesis/bulk-delete", "post"),
    ):
        assert list(schema["paths"][path][method]["requestBody"]["content"]) == ["application/json"]


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/api/v1/synthesis", {"text": 0, "voice": "joe"}, "text"),
        ("/api/v1/synthesis", {"text": "Hi.", "voice": True}, "voice"),
        ("/api/v1/synthesis", {"text": "Hi.", "voice": "joe", "format": 1}, "format"),
        ("/api/v1/keys", {"name": 0}, "name"),
        ("/api/v1/keys", {"name": "ci", "scopes": [1]}, "scopes"),
        ("/api/v1/synthesis/bulk-delete", {"ids": [0]}, "ids"),
    ],
)
def test_a_number_where_a_string_is_declared_is_refused(owner_api, path, body, field):
    response = owner_api.post(path, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_a_form_body_is_refused_where_json_is_declared(owner_api):
    # `expires_at=` in a form used to read as "never expires".
    response = owner_api.post("/api/v1/keys", {"name": "ci", "expires_at": ""}, format="multipart")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize("value", ["abc", "0", "-1", "101", "1e3", ""])
def test_a_bad_page_size_is_refused_not_ignored(owner_api, value):
    response = owner_api.get(f"/api/v1/synthesis?page_size={value}")
    assert response.status_code == 400
    assert "page_size" in response.json()["error"]["details"]


@pytest.mark.parametrize("value", ["abc", "0", "last"])
def test_a_bad_page_number_is_refused(owner_api, value):
    response = owner_api.get(f"/api/v1/voices?page={value}")
    assert response.status_code == 400
    assert "page" in response.json()["error"]["details"]


def test_an_empty_format_on_a_download_is_refused(owner, owner_api):
    job = SynthesisJob.objects.create(owner=owner, text="Hi.", voice_name="joe", engine="piper", language="en")
    response = owner_api.get(f"/api/v1/synthesis/{job.pk}/audio?format=")
    assert response.status_code == 400
    assert "format" in response.json()["error"]["details"]


# --- 3. Every status code that can happen is documented ---------------------------


def test_a_page_past_the_last_is_a_documented_404_that_names_the_last_page(schema, owner_api):
    response = owner_api.get("/api/v1/keys?page=9")
    assert response.status_code == 404
    assert "past the last page (1)" in response.json()["error"]["message"]
    for path in ("/api/v1/synthesis", "/api/v1/voices", "/api/v1/keys"):
        assert "404" in schema["paths"][path]["get"]["responses"]


def test_the_statuses_each_endpoint_can_answer_are_documented(schema):
    def statuses(path: str, method: str) -> set[str]:
        return set(schema["paths"][path][method]["responses"])

    assert {"200", "202", "404", "409", "429"} <= statuses("/api/v1/synthesis", "post")  # 200: idempotent replay
    for path in ("/api/v1/voices", "/api/v1/voices/{voice_id}/samples"):
        assert {"201", "400", "413", "415", "422", "429"} <= statuses(path, "post")
    assert "503" in statuses("/api/v1/synthesis/stream", "post")
    assert "503" in statuses("/api/v1/voices/{voice_id}/preview", "get")
    for path, item in schema["paths"].items():
        if path.startswith("/api/"):
            for method, operation in item.items():
                assert "429" in operation["responses"], f"{method.upper()} {path}"


# --- 5. Security schemes are alternatives -----------------------------------------


def test_bearer_or_x_api_key_or_the_session_cookie_each_suffice(schema):
    security = schema["paths"]["/api/v1/synthesis"]["get"]["security"]
    assert security == [{"ApiKeyBearer": []}, {"ApiKeyHeader": []}, {"cookieAuth": []}]
    for item in schema["paths"].values():
        for operation in item.values():
            assert all(len(requirement) <= 1 for requirement in operation.get("security", [])), operation["operationId"]


def _nodes(node: object):  # type: ignore[no-untyped-def]
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value)


def test_a_nullable_enum_lists_null_among_its_values(schema):
    # OpenAPI 3.0's `nullable` does not widen an `enum`: without null in the list, a
    # documented null (e.g. params.emotion) reads as invalid to validators and generators.
    offenders = [
        node for node in _nodes(schema) if node.get("nullable") and "enum" in node and None not in node["enum"]
    ]
    assert offenders == []


@pytest.mark.parametrize("path", ["/api/v1/synthesis", "/api/v1/synthesis/stream"])
def test_a_synthesis_language_is_documented_as_one_this_server_speaks(schema, path):
    from voices.selectors import spoken_languages

    language = request_schema(schema, path, "post")["properties"]["language"]
    assert resolve(schema, language)["enum"] == list(spoken_languages())
    assert language["nullable"] is True  # null: the voice's own language


@pytest.mark.parametrize(
    ("path", "method", "media"),
    [
        ("/api/v1/voices", "post", "multipart/form-data"),
        ("/api/v1/voices/{voice_id}", "patch", "application/json"),
    ],
)
def test_a_cloned_voices_language_is_documented_as_one_the_cloning_engine_speaks(schema, path, method, media):
    from voices.selectors import clone_languages

    language = request_schema(schema, path, method, media)["properties"]["language"]
    assert resolve(schema, language)["enum"] == list(clone_languages())


def test_a_language_outside_the_documented_enum_is_a_400_naming_the_spoken_ones(schema, owner_api):
    spoken = resolve(schema, request_schema(schema, "/api/v1/synthesis", "post")["properties"]["language"])["enum"]
    assert "tlh" not in spoken
    response = owner_api.post("/api/v1/synthesis", {"text": "Hello.", "voice": "joe", "language": "tlh"}, format="json")
    assert response.status_code == 400
    assert "'tlh'" in response.json()["error"]["message"]


def test_the_idempotency_key_header_documents_the_length_and_characters_it_accepts(schema, owner_api):
    import re

    header = parameter(schema, "/api/v1/synthesis", "post", "Idempotency-Key")["schema"]
    pattern = re.compile(header["pattern"])
    body = {"text": "Hello.", "voice": "joe"}
    # A header value is latin-1: every such character the schema allows is accepted, every other refused.
    for code in [0x09, 0x1F, 0x20, 0x41, 0x7E, 0x7F, 0x85, 0xA0, 0xA1, 0xAD, 0xE9, 0xFF]:
        key = f"k{chr(code)}k"
        response = owner_api.post("/api/v1/synthesis", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
        assert (response.status_code in (200, 202)) == bool(pattern.match(key)), (hex(code), response.content[:200])
    longest = "k" * header["maxLength"]
    assert owner_api.post("/api/v1/synthesis", body, format="json", HTTP_IDEMPOTENCY_KEY=longest).status_code == 202
    assert (
        owner_api.post("/api/v1/synthesis", body, format="json", HTTP_IDEMPOTENCY_KEY=longest + "k").status_code == 400
    )


def test_the_openai_speech_formats_documented_are_the_ones_it_speaks(schema):
    from openai_api.api import FORMATS

    formats = resolve(schema, request_schema(schema, "/v1/audio/speech", "post")["properties"]["response_format"])[
        "enum"
    ]
    assert formats == list(FORMATS)  # aac, refused with a 400, is not offered as valid
