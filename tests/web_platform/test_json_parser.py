"""The one JSON reader (core.parsers) behind every API view and the OpenAI
route: JSON the rest of the stack cannot take is a 400 with the error body (OpenAI-shaped
on /v1/...), never a 500 — deep nesting (RecursionError), NUL characters (PostgreSQL
DataError), numbers past 64 bits (float() overflow), NaN and Infinity."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]

DEEP = b'{"a":' * 100_000
BAD_BODIES = {
    "deep-unterminated": DEEP,
    "deep-complete": b'{"text": "hi", "voice": "joe", "params": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    "nested-33": b'{"text": "hi", "voice": "joe", "params": {"x": ' + b"[" * 32 + b"]" * 32 + b"}}",
    "nul-in-text": b'{"text": "hi\\u0000there", "voice": "joe"}',
    "nul-in-voice": b'{"text": "hi", "voice": "jo\\u0000e"}',
    "nul-in-a-key": b'{"text": "hi", "voice": "joe", "params": {"spe\\u0000ed": 1}}',
    "huge-int": b'{"text": "hi", "voice": "joe", "params": {"speed": 1' + b"0" * 400 + b"}}",
    "4300-digits": b'{"text": "hi", "voice": "joe", "params": {"seed": ' + b"9" * 5000 + b"}}",
    "huge-float": b'{"text": "hi", "voice": "joe", "params": {"speed": 1e999}}',
    "nan": b'{"text": "hi", "voice": "joe", "params": {"speed": NaN}}',
    "bad-utf8": b'{"text": "\xff\xfe", "voice": "joe"}',
}
OPENAI_BAD_BODIES = {
    "deep-unterminated": DEEP,
    "nul-in-input": b'{"model": "tts-1", "input": "hi\\u0000", "voice": "joe"}',
    "nul-in-voice": b'{"model": "tts-1", "input": "hi", "voice": "jo\\u0000e"}',
    "huge-speed": b'{"model": "tts-1", "input": "hi", "voice": "joe", "speed": 1' + b"0" * 400 + b"}",
    "not-an-object": b"[1, 2]",
}


@pytest.mark.parametrize("path", ["/api/v1/synthesis", "/api/v1/synthesis/stream", "/api/v1/keys"])
@pytest.mark.parametrize("body", list(BAD_BODIES.values()), ids=list(BAD_BODIES))
def test_the_api_answers_json_it_cannot_take_with_400(owner_api, path, body):
    response = owner_api.generic("POST", path, body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["code"] == "validation_error" and error["message"]


def test_the_message_says_what_is_wrong(owner_api):
    deep = owner_api.generic("POST", "/api/v1/synthesis", DEEP, content_type="application/json")
    assert "nested too deeply" in deep.json()["error"]["message"]
    nul = owner_api.generic("POST", "/api/v1/synthesis", BAD_BODIES["nul-in-text"], content_type="application/json")
    assert "NUL" in nul.json()["error"]["message"]


def test_a_voice_rename_with_a_deep_body_is_400(owner_api, owner):
    from voices.models import Voice

    voice = Voice.objects.create(owner=owner, name="Grandpa", language="en", engine="xtts", status="ready")
    response = owner_api.generic("PATCH", f"/api/v1/voices/{voice.pk}", DEEP, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error"


def test_json_within_the_limits_still_works(owner_api):
    body = b'{"text": "Hello \\u00e9t\\u00e9.", "voice": "joe", "params": {"speed": 1.5, "seed": 9223372036854775807}}'
    response = owner_api.generic("POST", "/api/v1/synthesis", body, content_type="application/json")
    assert response.status_code == 202, response.content


@pytest.fixture
def speech_client(owner, make_key):  # type: ignore[no-untyped-def]
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(owner, ['synthesis:write'])}")
    return client


@pytest.mark.parametrize("body", list(OPENAI_BAD_BODIES.values()), ids=list(OPENAI_BAD_BODIES))
def test_the_openai_route_answers_json_it_cannot_take_with_an_openai_400(speech_client, body):
    response = speech_client.generic("POST", "/v1/audio/speech", body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["message"]
    assert set(error) == {"message", "type", "param", "code"}


@pytest.mark.parametrize("response_format", [{}, ["mp3"], 3, None])
def test_a_response_format_that_is_not_a_string_is_an_openai_400(speech_client, response_format):
    body = {"model": "tts-1", "input": "Hello.", "voice": "joe", "response_format": response_format}
    response = speech_client.post("/v1/audio/speech", body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"]["param"] == "response_format"


# null too: the schema says string, and OpenAI's client leaves an unset field out.
@pytest.mark.parametrize("instructions", [{"emotion": "happy"}, ["happy"], 3, True, None])
def test_instructions_that_are_not_a_string_are_an_openai_400(speech_client, instructions):
    body = {"model": "tts-1", "input": "Hello.", "voice": "joe", "instructions": instructions}
    response = speech_client.post("/v1/audio/speech", body, format="json")
    assert response.status_code == 400, response.content[:300]
    assert response.json()["error"]["param"] == "instructions"
