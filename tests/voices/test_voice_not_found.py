"""A voice name with a typo answers `voice_not_found` (404) naming the voice and listing
the voices the caller can use, on Speaker's API and on the OpenAI-compatible route."""

from __future__ import annotations

import pytest
from django.http import Http404

from voices.models import Voice
from voices.selectors import VoiceNotFound, voice_resolve_for_synthesis


def clone(owner, name: str, status: str = "ready") -> Voice:  # type: ignore[no-untyped-def]
    return Voice.objects.create(owner=owner, name=name, language="en", engine="xtts", status=status)


def test_the_service_names_the_voice_suggests_the_closest_and_lists_usable_ones(piper_only_engines, owner) -> None:
    clone(owner, "Grandma")
    clone(owner, "Half-done", status="processing")

    with pytest.raises(VoiceNotFound) as caught:
        voice_resolve_for_synthesis(user=owner, ref="jeo")

    error = caught.value
    assert isinstance(error, Http404)
    assert error.status_code == 404 and error.code == "voice_not_found"
    assert "'jeo'" in error.message and "Did you mean 'joe'?" in error.message
    assert error.details["available_voices"] == ["joe", "Grandma"]
    assert "joe, Grandma" in error.message


def test_another_users_voices_are_never_listed(piper_only_engines, owner, outsider) -> None:
    clone(owner, "Grandma")

    with pytest.raises(VoiceNotFound) as caught:
        voice_resolve_for_synthesis(user=outsider, ref="Grandma")

    assert caught.value.details["available_voices"] == ["joe"]
    assert "Did you mean" not in caught.value.message


def test_synthesis_answers_voice_not_found_with_the_list(piper_only_engines, owner, owner_api) -> None:
    response = owner_api.post("/api/v1/synthesis", {"text": "Hello.", "voice": "jeo"}, format="json")

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "voice_not_found"
    assert error["message"].startswith("There is no voice named 'jeo'. Did you mean 'joe'?")
    assert error["details"]["available_voices"] == ["joe"]


def test_the_stream_endpoint_answers_voice_not_found_too(piper_only_engines, owner_api) -> None:
    response = owner_api.post(
        "/api/v1/synthesis/stream", {"text": "Hello.", "voice": "jeo", "format": "pcm"}, format="json"
    )

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "voice_not_found"


def test_an_unknown_voice_id_is_named_too(piper_only_engines, owner_api) -> None:
    ref = "00000000-0000-0000-0000-000000000000"
    response = owner_api.post("/api/v1/synthesis", {"text": "Hello.", "voice": ref}, format="json")

    assert response.status_code == 404
    assert ref in response.json()["error"]["message"]


def test_the_openai_route_answers_in_openais_shape_with_the_list(piper_only_engines, owner_api) -> None:
    response = owner_api.post("/v1/audio/speech", {"model": "tts-1", "input": "Hello.", "voice": "jeo"}, format="json")

    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "voice_not_found" and error["param"] == "voice"
    assert error["type"] == "invalid_request_error"
    assert "'jeo'" in error["message"] and "Did you mean 'joe'?" in error["message"]
    # OpenAI's own voice names are usable here (an alias table), so they are listed.
    assert "alloy" in error["message"]
