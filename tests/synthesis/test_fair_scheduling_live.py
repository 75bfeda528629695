"""Fair scheduling, live, in both hosting modes (docs/ARCHITECTURE.md, "Fair
scheduling"): the embedded default (daphne with the worker inside) and `runengine`
workers relaying streams over Redis. A stream starts speaking while a long job is being
generated, and interleaved generations sound exactly as they do alone — Piper, and
XTTS (the tiny checkpoint) with seeded sampling."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
import requests

from tests.conftest_engines import tiny_xtts_dir  # noqa: F401 - fixture
from tests.live import LiveServer
from tests.together import run_together

LONG_JOB = " ".join(f"Queued sentence number {n} of a long job that nobody is listening to." for n in range(1, 25))
STREAM_TEXT = "A listener is waiting. It hears this at once. Not after the long job."


@pytest.fixture(scope="module", params=["embedded", pytest.param("runengine", marks=pytest.mark.redis)])
def server(request, tmp_path_factory, tiny_xtts_dir):  # type: ignore[no-untyped-def]  # noqa: F811
    env = {"TTS_ENGINES": "piper,xtts", "XTTS_MODEL_DIR": str(tiny_xtts_dir), "XTTS_DEVICE": "cpu"}
    if request.param == "runengine":
        env.update(
            {
                "REDIS_URL": os.environ["REDIS_URL"],
                "EMBEDDED_WORKER": "false",
                "CHANNEL_PREFIX": f"speaker-fair-{os.getpid()}",
            }
        )
    live = LiveServer(tmp_path_factory.mktemp(f"fair-{request.param}"), extra_env=env).start()
    if request.param == "runengine":
        live.start_worker("fair-worker")
    live.key = live.create_key("listener")
    live.wait_until_ready()  # a stream is refused (503) until a worker is alive
    yield live
    live.stop()


def _headers(server: LiveServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.key}"}


def _job(server: LiveServer, job_id: str) -> dict[str, Any]:
    response = requests.get(f"{server.url}/api/v1/synthesis/{job_id}", headers=_headers(server), timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _wait_for(condition: Any, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the server never got there"
        time.sleep(0.7)  # polite polling: the API's rate limit (100 a minute) counts these, and a
        # loaded machine may take more than a minute to finish the long job


def _stream(server: LiveServer, text: str, voice: str, params: dict[str, Any]) -> dict[str, Any]:
    """Stream raw PCM; returns the audio and when (client clock) the first and last
    bytes came."""
    sent = time.monotonic()
    response = requests.post(
        f"{server.url}/api/v1/synthesis/stream",
        json={"text": text, "voice": voice, "format": "pcm", "params": params},
        headers=_headers(server),
        stream=True,
        timeout=180,
    )
    assert response.status_code == 200, response.text
    chunks = response.iter_content(chunk_size=None)
    first = next(chunks)
    first_at = time.monotonic()
    body = first + b"".join(chunks)
    return {
        "audio": body,
        "sent": sent,
        "first": first_at,
        "done": time.monotonic(),
        "job": response.headers["X-Job-ID"],
    }


def test_a_stream_speaks_while_a_long_job_is_being_generated_and_sounds_as_alone(server):  # type: ignore[no-untyped-def]
    params = {"variability": 0}
    alone = _stream(server, STREAM_TEXT, "joe", params)["audio"]
    job_id = requests.post(
        f"{server.url}/api/v1/synthesis",
        json={"text": LONG_JOB, "voice": "joe", "params": params},
        headers=_headers(server),
        timeout=30,
    ).json()["id"]
    _wait_for(lambda: _job(server, job_id)["progress"] > 0)  # the job holds the model, segment after segment

    streamed = _stream(server, STREAM_TEXT, "joe", params)
    # The whole stream was spoken between two of the job's segments, not after the job...
    assert _job(server, job_id)["status"] == "running"
    # ...and it is exactly the audio it has alone.
    assert streamed["audio"] == alone
    _wait_for(lambda: _job(server, job_id)["status"] == "completed", timeout=300)


def test_concurrent_seeded_xtts_streams_interleave_and_sound_as_alone(server):  # type: ignore[no-untyped-def]
    texts = [" ".join(f"Speaker {n} says part {p}." for p in range(1, 9)) for n in range(1, 5)]
    voices = ["xtts:Tiny Alice", "xtts:Tiny Bob", "xtts:Tiny Alice", "xtts:Tiny Bob"]
    params = [{"do_sample": True, "temperature": 1.0, "seed": 100 + n, "max_new_tokens": 8} for n in range(4)]
    alone = [_stream(server, t, v, p)["audio"] for t, v, p in zip(texts, voices, params, strict=False)]

    results = run_together(
        list(zip(texts, voices, params, strict=False)), lambda request: _stream(server, *request), timeout=300
    )
    # Interleaved: every stream was already speaking before any of them had finished...
    assert max(r["first"] for r in results) < min(r["done"] for r in results)
    # ...and each is exactly its audio alone (its seed's own draws, its own voice).
    for got, expected in zip(results, alone, strict=False):
        assert got["audio"] == expected
