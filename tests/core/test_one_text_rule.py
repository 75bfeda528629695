"""One JSON reader and one text rule (core.parsers) for every route: a lone surrogate
(`"\\ud800"`, which no UTF-8 text can hold) or a NUL in the text is refused with a 400
in the route's own error shape before any job exists. The ElevenLabs routes used to
start the generation and answer 500 when the job's insert raised UnicodeEncodeError;
/v1/audio/speech answered 500 at once."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from core.parsers import InvalidText, check_text, loads_request_json, text_refusal
from synthesis.models import SynthesisJob

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]

SURROGATE = '"\\ud800 Hello"'  # JSON text: the escape, as a client sends it
NUL = '"Hello \\u0000 world"'

SPEAKER = [(path, '{{"text": {t}, "voice": "joe"}}') for path in ("/api/v1/synthesis", "/api/v1/synthesis/stream")]
OPENAI = [("/v1/audio/speech", '{{"model": "tts-1", "input": {t}, "voice": "joe"}}')]
ELEVENLABS = [
    (f"/v1/text-to-speech/joe{route}", '{{"text": {t}}}')
    for route in ("", "/stream", "/with-timestamps", "/stream/with-timestamps")
]


@pytest.fixture
def caller(owner, make_key) -> APIClient:  # type: ignore[no-untyped-def]
    """The owner's key, sent the way each family's clients send it (Bearer and xi-api-key)."""
    key = make_key(owner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_XI_API_KEY=key)
    return client


def _message(family: str, response) -> str:  # type: ignore[no-untyped-def]
    body = response.json()
    if family == "elevenlabs":
        assert set(body) == {"detail"} and set(body["detail"]) == {"status", "message"}, body
        return body["detail"]["message"]
    error = body["error"]
    if family == "openai":
        assert set(error) == {"message", "type", "param", "code"} and error["type"] == "invalid_request_error", body
    else:
        assert error["code"] == "validation_error", body
    return error["message"]


@pytest.mark.parametrize("text", [SURROGATE, NUL], ids=["lone-surrogate", "nul"])
@pytest.mark.parametrize(
    ("family", "path", "template"),
    [("speaker", *r) for r in SPEAKER] + [("openai", *r) for r in OPENAI] + [("elevenlabs", *r) for r in ELEVENLABS],
)
def test_every_text_to_speech_route_refuses_text_no_database_can_hold_before_any_job(
    caller, family, path, template, text
):
    response = caller.generic("POST", path, template.format(t=text), content_type="application/json")

    assert response.status_code == 400, response.content[:300]
    message = _message(family, response)
    assert ("surrogate" if "ud800" in text else "nul") in message.lower()
    assert not SynthesisJob.objects.exists()


def test_the_rule_names_what_is_wrong():
    assert text_refusal("Hello") is None
    assert "U+D800" in text_refusal("\ud800 Hello")
    assert "NUL" in text_refusal("a\x00b")
    assert text_refusal("paired 😀 is fine") is None
    with pytest.raises(InvalidText) as refused:
        check_text("\udfff", field="name")
    assert refused.value.field == "name" and refused.value.message.startswith("name contains a lone surrogate")


def test_the_reader_refuses_a_surrogate_in_a_key_too():
    with pytest.raises(ValueError, match="surrogate"):
        loads_request_json('{"\\udc00": 1}')
    assert loads_request_json('{"emoji": "\\ud83d\\ude00"}') == {"emoji": "😀"}  # a proper pair is one character
