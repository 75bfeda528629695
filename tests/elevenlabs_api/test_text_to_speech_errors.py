"""POST /v1/text-to-speech/{voice_id}[/stream][/with-timestamps]: what is refused before
any audio, in ElevenLabs' error shape, and that a refused request queues nothing."""

from __future__ import annotations

import pytest

from synthesis.models import SynthesisJob
from tests.elevenlabs_api.conftest import error_of
from voices.models import Voice

ROUTES = ["", "/stream", "/with-timestamps", "/stream/with-timestamps"]


@pytest.fixture(autouse=True)
def _piper(piper_only):  # type: ignore[no-untyped-def]
    yield


@pytest.mark.parametrize("route", ROUTES)
def test_an_unknown_voice_is_404_listing_the_usable_ones(owner_xi, route):
    response = owner_xi.post_json(f"/v1/text-to-speech/no-such-voice{route}", {"text": "Hello"})
    assert response.status_code == 404
    detail = error_of(response)
    assert detail["status"] == "voice_not_found" and "joe" in detail["message"]
    assert not SynthesisJob.objects.exists()


def test_another_users_voice_is_404(owner_xi, outsider):
    voice = Voice.objects.create(owner=outsider, name="Secret", language="en", engine="xtts", status=Voice.Status.READY)
    assert owner_xi.post_json(f"/v1/text-to-speech/{voice.pk}", {"text": "Hello"}).status_code == 404


def test_an_unknown_output_format_is_400_listing_them(owner_xi):
    response = owner_xi.post_json("/v1/text-to-speech/joe?output_format=aac_44100", {"text": "Hello"})
    assert response.status_code == 400 and "mp3_44100_128" in error_of(response)["message"]


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ({}, "text"),
        ({"text": "Hi", "voice_settings": {"stability": 3}}, "stability"),
        ({"text": "Hi", "seed": "x"}, "seed"),
    ],
)
def test_a_bad_body_is_400_naming_the_field(owner_xi, body, word):
    response = owner_xi.post_json("/v1/text-to-speech/joe", body)
    assert response.status_code == 400 and word in error_of(response)["message"]


def test_broken_json_is_400(owner_xi):
    response = owner_xi.client.post(
        "/v1/text-to-speech/joe", "{nope", content_type="application/json", HTTP_XI_API_KEY=owner_xi.key
    )
    assert response.status_code == 400


def test_a_language_the_voice_cannot_speak_is_400(owner_xi):
    response = owner_xi.post_json("/v1/text-to-speech/joe", {"text": "Hallo", "language_code": "de"})
    assert response.status_code == 400 and "de" in error_of(response)["message"]


def test_text_over_the_limit_is_400(owner_xi, settings):
    settings.MAX_TEXT_LENGTH = 10
    response = owner_xi.post_json("/v1/text-to-speech/joe", {"text": "This is far too long."})
    assert response.status_code == 400 and "at most" in error_of(response)["message"]


def test_past_the_quota_it_is_429_with_retry_after(owner_xi, owner, settings):
    settings.EMBEDDED_WORKER = True  # streams served in-process: no separate worker to wait for
    owner.monthly_character_quota = 5
    owner.save()
    response = owner_xi.post_json("/v1/text-to-speech/joe", {"text": "More than five characters."})
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert error_of(response)["status"] == "quota_exceeded"
    assert not SynthesisJob.objects.exists()


def test_get_is_405(owner_xi):
    response = owner_xi.get("/v1/text-to-speech/joe")
    assert response.status_code == 405 and "POST" in response["Allow"]


def test_with_separate_workers_and_none_alive_it_is_503_with_retry_after(owner_xi, settings):
    settings.EMBEDDED_WORKER = False
    response = owner_xi.post_json("/v1/text-to-speech/joe/stream", {"text": "Hello"})
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    assert "worker" in error_of(response)["message"]
