"""Idle unloading in `make run`'s configuration, live, with a short real idle time: the
embedded worker unloads Piper on time by itself, stays live, and a job and a stream
that come afterwards each load it again and say so in their `status_note`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.live import LiveServer

IDLE_FOR = 1.5


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    # The sweep alone would come every 30 s: the worker must wake up for the unload.
    live = LiveServer(
        tmp_path / "live", extra_env={"ENGINE_IDLE_UNLOAD_SECONDS": str(IDLE_FOR), "WORKER_SWEEP_SECONDS": "30"}
    ).start()
    live.wait_until_ready()
    yield live
    live.stop()


def _until(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_embedded_worker_unloads_piper_when_idle_and_the_next_requests_load_it_again(server):
    key = server.create_key("home")
    auth = {"Authorization": f"Bearer {key}"}

    def piper() -> dict[str, Any]:
        health = requests.get(f"{server.url}/api/v1/health", headers=auth, timeout=10).json()
        return {**next(e for e in health["engines"] if e["name"] == "piper"), "alive": health["workers"]["alive"]}

    unloaded = _until(lambda: (p := piper())["loaded"] is False and p, "Piper to be unloaded")
    assert unloaded["loaded_at"] is not None and unloaded["unloaded_at"] is not None
    assert unloaded["alive"] == 1  # the worker stays live

    created = requests.post(
        f"{server.url}/api/v1/synthesis",
        json={"text": "Good evening.", "voice": "joe", "language": "en"},
        headers=auth,
        timeout=30,
    )
    assert created.status_code == 202, created.text

    def job() -> dict[str, Any] | None:
        body = requests.get(f"{server.url}/api/v1/synthesis/{created.json()['id']}", headers=auth, timeout=10).json()
        return body if body["status"] == "completed" else None

    done = _until(job, "the job to complete")
    assert done["status_note"].startswith("Waited ") and "piper model to load" in done["status_note"]
    assert piper()["loaded_at"] > unloaded["loaded_at"]  # loaded again

    _until(lambda: piper()["loaded"] is False, "Piper to be unloaded again")
    stream = requests.post(
        f"{server.url}/api/v1/synthesis/stream",
        json={"text": "Still there?", "voice": "joe", "format": "pcm"},
        headers=auth,
        timeout=60,
    )
    assert stream.status_code == 200 and len(stream.content) > 1000
    note = requests.get(f"{server.url}/api/v1/synthesis/{stream.headers['X-Job-ID']}", headers=auth, timeout=10)
    assert note.json()["status_note"].startswith("Waited ")
