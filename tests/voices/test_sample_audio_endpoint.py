"""GET /api/v1/voices/{id}/samples/{sample_id}/audio: the stored wav, owner only."""

from __future__ import annotations

import io

import pytest
import soundfile as sf

from voices.models import VoiceSample

pytestmark = pytest.mark.usefixtures("piper_only_engines")


def test_it_streams_the_stored_wav_as_an_attachment(owner_api, create_voice) -> None:
    voice = create_voice(name="Grandma's voice").json()
    sample = VoiceSample.objects.get(voice_id=voice["id"])

    response = owner_api.get(voice["samples"][0]["audio_url"])

    assert response.status_code == 200
    assert response["Content-Type"] == "audio/wav"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"Grandma-s-voice-{str(sample.pk)[:8]}.wav" in disposition
    audio, rate = sf.read(io.BytesIO(b"".join(response.streaming_content)))
    assert rate == 24000
    assert audio.ndim == 1
    assert len(audio) / rate == pytest.approx(sample.duration_seconds, abs=0.01)


def test_a_missing_file_is_404_not_500(owner_api, create_voice) -> None:
    voice = create_voice().json()
    VoiceSample.objects.get(voice_id=voice["id"]).path.unlink()

    response = owner_api.get(voice["samples"][0]["audio_url"])

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_it_needs_the_read_scope(api_for, owner, create_voice) -> None:
    url = create_voice().json()["samples"][0]["audio_url"]

    assert api_for(owner, ["voices:read"]).get(url).status_code == 200
    assert api_for(owner, ["synthesis:write"]).get(url).status_code == 403
