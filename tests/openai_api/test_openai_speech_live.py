"""POST /v1/audio/speech with the official `openai` client against a live server."""

from __future__ import annotations

import io

import openai
import pytest
import soundfile as sf


@pytest.fixture(scope="module")
def client(live_server_embedded):  # type: ignore[no-untyped-def]
    key = live_server_embedded.create_key("openai-user")
    return openai.OpenAI(base_url=f"{live_server_embedded.url}/v1", api_key=key, max_retries=0, timeout=120)


def test_the_openai_client_gets_playable_mp3(client):
    result = client.audio.speech.create(model="tts-1", voice="joe", input="Hello from an OpenAI client.")
    pcm, rate = sf.read(io.BytesIO(result.content), dtype="float32")
    assert result.content[:3] == b"ID3" or result.content[0] == 0xFF
    assert rate == 22050 and len(pcm) / rate > 1.0


def test_the_streaming_helper_receives_wav(client, tmp_path):
    target = tmp_path / "speech.wav"
    with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="joe", input="Streaming to a file. Second sentence.", response_format="wav", speed=1.25
    ) as response:
        response.stream_to_file(target)
    pcm, rate = sf.read(target, dtype="float32")
    assert rate == 22050 and len(pcm) / rate > 1.0


@pytest.mark.parametrize(("fmt", "rate"), [("flac", 22050), ("opus", 24000)])
def test_other_formats_decode(client, fmt, rate):
    result = client.audio.speech.create(model="tts-1", voice="joe", input="Other formats.", response_format=fmt)
    pcm, got_rate = sf.read(io.BytesIO(result.content), dtype="float32")
    assert got_rate == rate and len(pcm) > rate // 2


def test_pcm_is_24khz_s16le(client):
    result = client.audio.speech.create(model="tts-1", voice="joe", input="Raw samples.", response_format="pcm")
    assert len(result.content) % 2 == 0 and len(result.content) / 2 / 24000 > 0.5


def test_errors_come_in_openais_shape(client):
    with pytest.raises(openai.BadRequestError) as bad_speed:
        client.audio.speech.create(model="tts-1", voice="joe", input="x", speed=9)
    assert bad_speed.value.body["param"] == "speed"
    with pytest.raises(openai.NotFoundError):
        client.audio.speech.create(model="tts-1", voice="no-such-voice", input="x")
    with pytest.raises(openai.BadRequestError):
        client.audio.speech.create(model="tts-1", voice="joe", input="x", response_format="aac")


def test_a_wrong_key_is_401(live_server_embedded):
    bad = openai.OpenAI(base_url=f"{live_server_embedded.url}/v1", api_key="spk_nope_nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.audio.speech.create(model="tts-1", voice="joe", input="x")


def test_the_generation_is_in_history(client, live_server_embedded):
    import requests

    result = client.audio.speech.with_raw_response.create(
        model="tts-1", voice="joe", input="Remember me.", response_format="wav"
    )
    job_id = result.headers["X-Job-ID"]
    key = client.api_key
    job = requests.get(
        f"{live_server_embedded.url}/api/v1/synthesis/{job_id}", headers={"X-API-Key": key}, timeout=30
    ).json()
    assert job["text"] == "Remember me." and job["status"] in ("running", "completed")


@pytest.mark.parametrize("voice", ["alloy", "nova", "verse"])
def test_openais_voice_names_speak_through_the_alias_table(client, live_server_embedded, voice):
    import requests

    result = client.audio.speech.with_raw_response.create(
        model="tts-1", voice=voice, input="An OpenAI voice name.", response_format="wav"
    )
    pcm, rate = sf.read(io.BytesIO(result.content), dtype="float32")
    assert rate == 22050 and len(pcm) / rate > 0.5
    job = requests.get(
        f"{live_server_embedded.url}/api/v1/synthesis/{result.headers['X-Job-ID']}",
        headers={"X-API-Key": client.api_key},
        timeout=30,
    ).json()
    assert job["voice"] == "joe"


def test_the_official_client_lists_the_models(client):
    assert [model.id for model in client.models.list()] == ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"]


def test_a_key_without_bearer_gets_a_hint(live_server_embedded, client):
    import requests

    response = requests.post(
        f"{live_server_embedded.url}/v1/audio/speech",
        json={"model": "tts-1", "voice": "joe", "input": "x"},
        headers={"Authorization": client.api_key},
        timeout=30,
    )
    assert response.status_code == 401
    assert "Bearer" in response.json()["error"]["message"] and "X-API-Key" in response.json()["error"]["message"]


def test_a_route_speaker_does_not_serve_is_a_404_the_client_can_read(client):
    # GET /v1/models/{id} is OpenAI's; Speaker does not serve it. Django's HTML 404 page
    # reached the client as text; the OpenAI family's body is what the client parses.
    with pytest.raises(openai.NotFoundError) as missing:
        client.models.retrieve("tts-1")
    assert isinstance(missing.value.body, dict) and missing.value.body["type"] == "invalid_request_error"
    assert missing.value.body["code"] == "not_found"
