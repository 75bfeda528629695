"""/v1/audio/speech streams pcm, opus, mp3 and wav with the official `openai` client:
audio arrives while the job is still running, and what arrives decodes. flac comes
whole (docs/api.md "Audio formats")."""

from __future__ import annotations

import io

import openai
import pytest
import requests
import soundfile as sf

from speech import audio

LONG_TEXT = " ".join(
    f"This is sentence number {n}, spoken while the next ones are still being made." for n in range(1, 11)
)
# More than any format's headers (Ogg Opus: under 1 KB): real audio, not a preamble.
FIRST_AUDIO_BYTES = 4096


@pytest.fixture(scope="module")
def live(live_server_embedded):  # type: ignore[no-untyped-def]
    live_server_embedded.openai_key = live_server_embedded.create_key("openai-streamer")
    return live_server_embedded


@pytest.fixture(scope="module")
def client(live):  # type: ignore[no-untyped-def]
    return openai.OpenAI(base_url=f"{live.url}/v1", api_key=live.openai_key, max_retries=0, timeout=300)


def _job_status(live, job_id: str) -> str:  # type: ignore[no-untyped-def]
    response = requests.get(f"{live.url}/api/v1/synthesis/{job_id}", headers={"X-API-Key": live.openai_key}, timeout=30)
    return response.json()["status"]


@pytest.mark.parametrize(("fmt", "rate"), [("pcm", 24000), ("opus", 24000), ("mp3", 22050), ("wav", 22050)])
def test_audio_arrives_while_the_job_is_still_running_and_decodes(client, live, fmt: str, rate: int) -> None:
    with client.audio.speech.with_streaming_response.create(
        model="tts-1", voice="joe", input=LONG_TEXT, response_format=fmt
    ) as response:
        job_id = response.headers["X-Job-ID"]
        received = b""
        status_at_first_audio = None
        for piece in response.iter_bytes():
            received += piece
            if status_at_first_audio is None and len(received) >= FIRST_AUDIO_BYTES:
                status_at_first_audio = _job_status(live, job_id)
    assert status_at_first_audio == "running"
    assert _job_status(live, job_id) == "completed"
    if fmt == "pcm":
        pcm, got_rate = audio.from_s16le(received), 24000
    else:
        pcm, got_rate = sf.read(io.BytesIO(received), dtype="float32")
    assert got_rate == rate
    assert len(pcm) / got_rate > 25.0  # ten sentences, all of them


def test_flac_comes_whole_with_a_complete_header(client) -> None:
    result = client.audio.speech.create(
        model="tts-1", voice="joe", input="Lossless and complete.", response_format="flac"
    )
    info = sf.info(io.BytesIO(result.content))
    pcm, rate = sf.read(io.BytesIO(result.content), dtype="float32")
    assert rate == 22050 and info.frames == len(pcm) and len(pcm) / rate > 1.0


def test_raw_pcm_names_its_rate_in_the_content_type_and_headers(client) -> None:
    result = client.audio.speech.with_raw_response.create(
        model="tts-1", voice="joe", input="Raw.", response_format="pcm"
    )
    assert result.headers["Content-Type"] == "audio/pcm;rate=24000;channels=1"
    assert result.headers["X-Sample-Rate"] == "24000"
    assert result.headers["X-Channels"] == "1" and result.headers["X-Sample-Format"] == "s16le"
