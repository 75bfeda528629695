"""OpenAI's current speech API against a live server, with the real clients unchanged:
the `openai` SDK (stream_format "sse", gpt-4o-mini-tts, voice objects, instructions),
LiveKit Agents' `openai.TTS` (which asks for SSE) and pipecat's `OpenAITTSService` run
through pipecat's own pipeline."""

from __future__ import annotations

import asyncio
import base64
import io
import json

import numpy as np
import openai
import pytest
import requests
import soundfile as sf

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def key(live_server_embedded) -> str:  # type: ignore[no-untyped-def]
    return live_server_embedded.create_key("openai-current")


@pytest.fixture(scope="module")
def client(live_server_embedded, key):  # type: ignore[no-untyped-def]
    return openai.OpenAI(base_url=f"{live_server_embedded.url}/v1", api_key=key, max_retries=0, timeout=120)


def _job(live, key: str, job_id: str) -> dict:  # type: ignore[no-untyped-def]
    return requests.get(f"{live.url}/api/v1/synthesis/{job_id}", headers={"X-API-Key": key}, timeout=30).json()


def _sse(client, **fields):  # type: ignore[no-untyped-def]
    """The events of one SSE response, and its headers."""
    with client.audio.speech.with_streaming_response.create(stream_format="sse", **fields) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
        headers = dict(response.headers)
    assert all(line.startswith("data: ") for line in lines), lines[:3]
    return [json.loads(line[len("data: ") :]) for line in lines], headers


@pytest.mark.parametrize(
    ("fmt", "rate"), [("mp3", 22050), ("wav", 22050), ("flac", 22050), ("opus", 24000), ("pcm", 24000)]
)
def test_sse_streams_deltas_then_a_done_with_usage_in_every_format(client, fmt: str, rate: int) -> None:
    events, _ = _sse(
        client,
        model="gpt-4o-mini-tts",
        voice="marin",
        input="Streaming as events. Second sentence.",
        response_format=fmt,
    )

    assert [e["type"] for e in events[:-1]] == ["speech.audio.delta"] * (len(events) - 1)
    # FLAC's header needs the whole length, so it comes as one delta (as the plain stream does).
    assert len(events) - 1 >= (1 if fmt == "flac" else 2)
    done = events[-1]
    assert done["type"] == "speech.audio.done"
    audio = b"".join(base64.b64decode(e["audio"]) for e in events[:-1])
    if fmt == "pcm":
        seconds = len(audio) / 2 / rate
    else:
        pcm, got_rate = sf.read(io.BytesIO(audio), dtype="float32")
        assert got_rate == rate
        seconds = len(pcm) / rate
    assert seconds > 1.0
    usage = done["usage"]
    # 38 characters at 4 a token; 20 audio tokens a second (openai_api.speech_options).
    assert usage["input_tokens"] == 10
    assert abs(usage["output_tokens"] - seconds * 20) <= 2
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_instructions_pick_an_emotion_and_pace_and_are_kept_on_the_job(client, live_server_embedded, key) -> None:
    result = client.audio.speech.with_raw_response.create(
        model="gpt-4o-mini-tts-2025-12-15",
        voice="cedar",
        input="Good news, everyone.",
        response_format="wav",
        instructions="Speak in a cheerful tone, slowly, like a radio host.",
    )

    job = _job(live_server_embedded, key, result.headers["X-Job-ID"])
    assert job["params"]["emotion"] == "happy" and job["params"]["speed"] == pytest.approx(0.85)
    assert job["instructions"] == "Speak in a cheerful tone, slowly, like a radio host."
    assert job["voice"] == "joe"


def test_instructions_it_cannot_map_are_kept_and_never_a_400(client, live_server_embedded, key) -> None:
    result = client.audio.speech.with_raw_response.create(
        model="gpt-4o-mini-tts",
        voice="alloy",
        input="Arr, matey.",
        response_format="wav",
        instructions="Sound like a pirate with a Cornish accent.",
    )

    job = _job(live_server_embedded, key, result.headers["X-Job-ID"])
    assert result.status_code == 200
    assert job["instructions"] == "Sound like a pirate with a Cornish accent." and job["params"].get("emotion") is None


def test_a_voice_object_names_any_voice_the_caller_can_use_by_id(client, live_server_embedded, key) -> None:
    voices = requests.get(f"{live_server_embedded.url}/api/v1/voices", headers={"X-API-Key": key}, timeout=30).json()
    joe = next(v for v in voices["results"] if v["name"] == "joe")

    result = client.audio.speech.with_raw_response.create(
        model="gpt-4o-mini-tts", voice={"id": joe["id"]}, input="Spoken by id.", response_format="wav"
    )

    assert _job(live_server_embedded, key, result.headers["X-Job-ID"])["voice_id"] == joe["id"]
    with pytest.raises(openai.NotFoundError):
        client.audio.speech.create(
            model="gpt-4o-mini-tts", voice={"id": "5f0c6f55-0000-4000-8000-000000000000"}, input="x"
        )
    with pytest.raises(openai.BadRequestError) as bad:
        client.audio.speech.create(model="gpt-4o-mini-tts", voice={"name": "joe"}, input="x")
    assert bad.value.body["param"] == "voice"


def test_an_unknown_stream_format_or_model_is_a_400_naming_it(client) -> None:
    with pytest.raises(openai.BadRequestError) as bad_format:
        client.audio.speech.create(model="gpt-4o-mini-tts", voice="marin", input="x", stream_format="ndjson")
    assert bad_format.value.body["param"] == "stream_format"
    with pytest.raises(openai.BadRequestError) as bad_model:
        client.audio.speech.create(model="gpt-4o-mini-tts-latest", voice="marin", input="x")
    assert bad_model.value.body["param"] == "model"


def test_livekit_agents_openai_tts_speaks_over_sse(live_server_embedded, key) -> None:
    from livekit.plugins import openai as lk_openai

    async def speak() -> tuple[int, int, list]:
        tts = lk_openai.TTS(
            base_url=f"{live_server_embedded.url}/v1", api_key=key, model="gpt-4o-mini-tts", voice="marin"
        )
        metrics: list = []
        tts.on("metrics_collected", metrics.append)
        frames = []
        async with tts.synthesize("Hello from a LiveKit agent. It streams.") as stream:
            async for event in stream:
                frames.append(event.frame)
        for _ in range(50):  # the metrics are emitted as the stream's task ends
            if metrics:
                break
            await asyncio.sleep(0.1)
        await tts.aclose()
        samples = sum(frame.samples_per_channel for frame in frames)
        return samples, frames[0].sample_rate, metrics

    samples, rate, metrics = asyncio.run(asyncio.wait_for(speak(), 120))
    assert rate == 24000 and samples / rate > 1.0
    # Token usage reaches LiveKit only from speech.audio.done: the plugin read the SSE stream.
    assert metrics and metrics[0].input_tokens == 10 and metrics[0].output_tokens > 20


def test_pipecat_openai_tts_service_speaks_through_its_pipeline(live_server_embedded, key) -> None:
    from pipecat.frames.frames import TTSAudioRawFrame, TTSSpeakFrame
    from pipecat.services.openai.tts import OpenAITTSService
    from pipecat.tests.utils import run_test

    async def speak() -> tuple[list, list]:
        tts = OpenAITTSService(
            api_key=key, base_url=f"{live_server_embedded.url}/v1", settings=OpenAITTSService.Settings(voice="marin")
        )
        down, up = await run_test(tts, frames_to_send=[TTSSpeakFrame("Hello from a pipecat agent.")])
        return list(down), list(up)

    frames, upstream = asyncio.run(asyncio.wait_for(speak(), 120))
    audio = [f for f in frames if isinstance(f, TTSAudioRawFrame)]
    pcm = np.frombuffer(b"".join(f.audio for f in audio), dtype="<i2")
    assert audio and audio[0].sample_rate == 24000 and pcm.size / 24000 > 1.0
    assert not [f for f in frames + upstream if type(f).__name__ == "ErrorFrame"]


@pytest.mark.parametrize("path", ["/v1/audio/voice_consents", "/v1/audio/voices"])
def test_a_multipart_body_without_its_boundary_is_a_400_not_a_500(live_server_embedded, key, path) -> None:
    # Daphne's requests reach Django's multipart parser unread (the test client's do not).
    response = requests.post(
        f"{live_server_embedded.url}{path}",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "multipart/form-data"},
        timeout=30,
    )

    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_multipart"
