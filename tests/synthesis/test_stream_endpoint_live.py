"""POST /api/v1/synthesis/stream against a live server (daphne, embedded worker)."""

from __future__ import annotations

import http.client
import io
import json
import time

import numpy as np
import pytest
import requests
import soundfile as sf

from speech import audio

LONG_TEXT = " ".join(
    f"This is sentence number {n}, spoken while the next ones are still being made." for n in range(1, 13)
)


@pytest.fixture(scope="module")
def live(live_server_embedded):  # type: ignore[no-untyped-def]
    live_server_embedded.key = live_server_embedded.create_key("streamer")
    return live_server_embedded


def _stream(live, text: str, fmt: str, **params):  # type: ignore[no-untyped-def]
    return requests.post(
        f"{live.url}/api/v1/synthesis/stream",
        json={"text": text, "voice": "joe", "format": fmt, "params": params},
        headers={"Authorization": f"Bearer {live.key}"},
        stream=True,
        timeout=120,
    )


def _job(live, job_id: str) -> dict:  # type: ignore[no-untyped-def]
    return requests.get(f"{live.url}/api/v1/synthesis/{job_id}", headers={"X-API-Key": live.key}, timeout=30).json()


def test_the_first_chunk_arrives_while_later_sentences_are_still_being_made(live):
    response = _stream(live, LONG_TEXT, "pcm")
    assert response.status_code == 200 and response.headers["X-Sample-Rate"] == "22050"
    chunks = response.iter_content(chunk_size=None)
    first = next(chunks)
    assert len(first) > 1000
    during = _job(live, response.headers["X-Job-ID"])
    assert during["status"] == "running" and during["progress"] < 1.0
    rest = b"".join(chunks)
    assert len(first) + len(rest) > 10 * 22050 * 2  # over ten seconds of speech in total


def test_a_wav_stream_starts_with_a_valid_header_and_decodes(live):
    response = _stream(live, "Hello there. A streamed wav file.", "wav")
    body = response.content
    assert body[:4] == b"RIFF" and body[8:12] == b"WAVE"
    pcm, rate = sf.read(io.BytesIO(body), dtype="float32")
    assert rate == 22050 and len(pcm) > 22050


@pytest.mark.parametrize("fmt", ["mp3", "ogg"])
def test_compressed_streams_decode(live, fmt):
    body = _stream(live, "Compressed audio, encoded as it is made. Second sentence.", fmt).content
    pcm, rate = sf.read(io.BytesIO(body), dtype="float32")
    assert rate == 22050 and len(pcm) / rate > 1.0


def test_the_stream_is_kept_in_history_and_matches_the_stored_audio(live):
    response = _stream(live, "Deterministic speech. Twice the same.", "pcm", variability=0)
    streamed = audio.from_s16le(response.content)
    job_id = response.headers["X-Job-ID"]
    for _ in range(50):
        job = _job(live, job_id)
        if job["status"] == "completed":
            break
        time.sleep(0.1)
    assert job["status"] == "completed" and job["mode"] == "stream"
    stored = requests.get(
        f"{live.url}/api/v1/synthesis/{job_id}/audio?format=pcm", headers={"X-API-Key": live.key}, timeout=30
    )
    assert np.array_equal(audio.from_s16le(stored.content), streamed)


def test_a_stream_matches_a_queued_job_with_the_same_settings(live):
    params = {"variability": 0}
    streamed = audio.from_s16le(_stream(live, "Same words, same voice.", "pcm", **params).content)
    job_id = requests.post(
        f"{live.url}/api/v1/synthesis",
        json={"text": "Same words, same voice.", "voice": "joe", "params": params},
        headers={"X-API-Key": live.key},
        timeout=30,
    ).json()["id"]
    for _ in range(100):
        if _job(live, job_id)["status"] == "completed":
            break
        time.sleep(0.1)
    queued = requests.get(
        f"{live.url}/api/v1/synthesis/{job_id}/audio?format=pcm", headers={"X-API-Key": live.key}, timeout=30
    )
    queued_pcm = audio.from_s16le(queued.content)
    assert np.array_equal(queued_pcm, streamed), (
        np.abs(queued_pcm - streamed).max(),
        np.argmax(np.abs(queued_pcm - streamed)),
    )


def test_a_client_that_disconnects_cancels_the_job_and_frees_its_slot(live):
    connection = http.client.HTTPConnection("127.0.0.1", live.port, timeout=60)
    body = json.dumps({"text": LONG_TEXT * 2, "voice": "joe", "format": "pcm"})
    connection.request(
        "POST",
        "/api/v1/synthesis/stream",
        body=body,
        headers={"Content-Type": "application/json", "X-API-Key": live.key},
    )
    response = connection.getresponse()
    job_id = response.getheader("X-Job-ID")
    assert len(response.read(4096)) == 4096
    connection.sock.close()
    connection.close()
    for _ in range(100):
        status = _job(live, job_id)["status"]
        if status == "cancelled":
            break
        time.sleep(0.1)
    assert status == "cancelled"
    # The slot is free again: a new stream starts at once.
    assert _stream(live, "Next one.", "pcm").status_code == 200


def test_a_format_that_cannot_stream_is_400(live):
    response = _stream(live, "Hi.", "flac")
    assert response.status_code == 400 and response.json()["error"]["details"]["format"]


def test_in_process_streams_do_not_pose_as_workers(live):
    assert _stream(live, "Counting workers. One more sentence.", "pcm").content
    ready = requests.get(f"{live.url}/health/ready", timeout=30).json()
    assert ready["checks"]["workers"]["alive"] == 1  # the embedded worker alone
