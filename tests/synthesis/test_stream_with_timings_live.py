"""POST /api/v1/synthesis/stream/with-timings: the stream endpoint's NDJSON variant,
audio and word timings on one response, live (daphne), with the embedded worker and,
with Redis, relayed from a separate worker over the channel layer."""

from __future__ import annotations

import base64
import json
import os

import pytest
import requests

from speech import audio
from speech.timings import spoken_words
from tests.live import LiveServer

TEXT = "Timings travel with the audio. Each sentence's words follow its sound, and the end says so."


@pytest.fixture(scope="module")
def live(live_server_embedded):  # type: ignore[no-untyped-def]
    live_server_embedded.key = live_server_embedded.create_key("timed-streamer")
    return live_server_embedded


def stream_lines(server, text: str = TEXT, fmt: str = "pcm") -> tuple[requests.Response, list[dict]]:  # type: ignore[no-untyped-def]
    response = requests.post(
        f"{server.url}/api/v1/synthesis/stream/with-timings",
        json={"text": text, "voice": "joe", "format": fmt, "params": {"variability": 0}},
        headers={"Authorization": f"Bearer {server.key}"},
        stream=True,
        timeout=120,
    )
    lines = [json.loads(line) for line in response.iter_lines() if line] if response.status_code == 200 else []
    return response, lines


def check_timed_stream(server, response: requests.Response, lines: list[dict]) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-ndjson"
    assert lines[-1] == {"type": "end"}
    received = 0  # bytes of pcm before each line
    words: list[dict] = []
    for line in lines[:-1]:
        if line["type"] == "audio":
            received += len(base64.b64decode(line["audio_base64"]))
        else:
            assert line["type"] == "words" and line["method"] == "exact"
            # A sentence's words come once its audio is out.
            assert line["words"][-1]["end"] * 22050 * 2 <= received + 2
            words += line["words"]
    assert [w["text"] for w in words] == spoken_words(TEXT)
    assert sum(1 for line in lines if line["type"] == "words") == 2  # one line per sentence
    last = 0.0
    for word in words:
        assert last <= word["start"] <= word["end"]
        last = word["end"]
    pcm = audio.from_s16le(
        b"".join(base64.b64decode(line["audio_base64"]) for line in lines if line["type"] == "audio")
    )
    assert len(pcm) / 22050 - 0.5 < words[-1]["end"] <= len(pcm) / 22050
    # The job keeps the same timings.
    job_id = response.headers["X-Job-ID"]
    stored = requests.get(
        f"{server.url}/api/v1/synthesis/{job_id}/timings", headers={"X-API-Key": server.key}, timeout=30
    )
    if stored.status_code == 200:  # the job may still be finishing its bookkeeping
        assert stored.json()["words"] == words


def test_audio_and_word_timings_arrive_on_one_ndjson_response(live):
    response, lines = stream_lines(live)
    check_timed_stream(live, response, lines)


def test_an_mp3_stream_with_timings_decodes(live):
    response, lines = stream_lines(live, "Short and sweet.", "mp3")
    data = b"".join(base64.b64decode(line["audio_base64"]) for line in lines if line["type"] == "audio")
    pcm, rate = audio.decode(data)
    assert rate == 22050 and len(pcm) / rate > 0.5
    assert [w["text"] for line in lines if line["type"] == "words" for w in line["words"]] == ["Short", "and", "sweet."]


def test_a_format_that_cannot_stream_is_a_400(live):
    response, _ = stream_lines(live, fmt="flac")
    assert response.status_code == 400
    assert "format" in response.json()["error"]["details"]


@pytest.fixture(scope="module")
def split_server(tmp_path_factory):  # type: ignore[no-untyped-def]
    server = LiveServer(
        tmp_path_factory.mktemp("split-timings"),
        extra_env={
            "REDIS_URL": os.environ.get("REDIS_URL", ""),
            "EMBEDDED_WORKER": "false",
            "CHANNEL_PREFIX": f"speaker-timings-{os.getpid()}",
        },
    ).start()
    server.start_worker("timings-worker")
    server.key = server.create_key("split-timed")
    server.wait_until_ready()  # a stream is refused (503) until a worker is alive
    yield server
    server.stop()


@pytest.mark.redis
def test_timings_are_relayed_from_a_separate_worker_over_the_channel_layer(split_server):
    response, lines = stream_lines(split_server)
    check_timed_stream(split_server, response, lines)
