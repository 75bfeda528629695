"""The `openai` SDK clones a voice with consent and speaks with it, against a live server
with a cloning engine (XTTS on the tiny random checkpoint): voice_consents.create,
voices.create, then speech.create(voice={"id": ...}), plain and as SSE."""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Iterator

import openai
import pytest
import requests
import soundfile as sf

from tests.live import LiveServer

pytestmark = pytest.mark.timeout(400)


@pytest.fixture(scope="module")
def xtts_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    pytest.importorskip("TTS", reason="coqui-tts is not installed")
    from tests.tiny_xtts import build_tiny_xtts

    checkpoint = build_tiny_xtts(tmp_path_factory.mktemp("tiny-xtts"))
    server = LiveServer(
        workdir=tmp_path_factory.mktemp("live-openai-xtts"),
        extra_env={"TTS_ENGINES": "piper,xtts", "XTTS_MODEL_DIR": str(checkpoint), "XTTS_DEVICE": "cpu"},
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(xtts_server: LiveServer) -> openai.OpenAI:
    key = xtts_server.create_key("openai-cloner")
    return openai.OpenAI(base_url=f"{xtts_server.url}/v1", api_key=key, max_retries=0, timeout=180)


def _spoken(client: openai.OpenAI, text: str) -> bytes:
    """Real speech to upload: Piper's, made by the same server."""
    return client.audio.speech.create(model="tts-1", voice="joe", input=text, response_format="wav").content


def test_the_sdk_clones_a_voice_under_a_recorded_consent_and_speaks_with_it(client, xtts_server) -> None:
    recording = _spoken(client, "I, Joe, agree that my voice may be recorded and cloned by this service. Thank you.")
    sample = _spoken(client, "Hello there. This is a sample of my voice, read slowly and clearly for the clone.")

    consent = client.audio.voice_consents.create(
        name="Joe agrees", language="en-US", recording=("consent.wav", recording, "audio/wav")
    )
    assert consent.object == "audio.voice_consent" and consent.language == "en-US"
    assert [c.id for c in client.audio.voice_consents.list()] == [consent.id]
    assert client.audio.voice_consents.update(consent.id, name="Joe consents").name == "Joe consents"

    voice = client.audio.voices.create(
        name="Joe clone", audio_sample=("sample.wav", sample, "audio/wav"), consent=consent.id
    )
    assert voice.object == "audio.voice" and voice.name == "Joe clone"

    headers = {"Authorization": f"Bearer {client.api_key}"}
    deadline = time.monotonic() + 180
    while (
        requests.get(f"{xtts_server.url}/v1/audio/voices/{voice.id}", headers=headers, timeout=30).json()["status"]
        != "ready"
    ):
        assert time.monotonic() < deadline, "the clone did not become ready"
        time.sleep(1)

    spoken = client.audio.speech.create(
        model="gpt-4o-mini-tts", voice={"id": voice.id}, input="Hi.", response_format="wav"
    )
    pcm, rate = sf.read(io.BytesIO(spoken.content), dtype="float32")
    assert rate == 24000 and len(pcm) > 0

    with client.audio.speech.with_streaming_response.create(
        model="gpt-4o-mini-tts", voice={"id": voice.id}, input="Hi.", response_format="pcm", stream_format="sse"
    ) as response:
        events = [json.loads(line[len("data: ") :]) for line in response.iter_lines() if line]
    assert events[-1]["type"] == "speech.audio.done" and events[-1]["usage"]["output_tokens"] > 0
    assert b"".join(base64.b64decode(e["audio"]) for e in events[:-1])

    with pytest.raises(openai.ConflictError):
        client.audio.voice_consents.delete(consent.id)
    assert client.audio.voices.delete(voice.id).deleted is True
    assert client.audio.voice_consents.delete(consent.id).deleted is True


def test_a_prompt_voice_is_a_bad_request_the_sdk_raises(client) -> None:
    with pytest.raises(openai.BadRequestError) as bad:
        client.audio.voices.create(name="Dreamed", prompt="a deep warm voice", type="prompt")
    assert bad.value.body["param"] == "type"
