"""With Redis: the web process (daphne) and a separate engine worker (`runengine`) talk
over the Redis channel layer — wake-ups, websocket events and stream chunks cross
processes."""

from __future__ import annotations

import asyncio
import json
import os

import pytest
import requests
import websockets

from speech import audio
from tests.live import LiveServer

pytestmark = pytest.mark.redis


@pytest.fixture(scope="module")
def split_server(tmp_path_factory):  # type: ignore[no-untyped-def]
    redis_url = os.environ.get("REDIS_URL", "")
    server = LiveServer(
        tmp_path_factory.mktemp("split"),
        extra_env={"REDIS_URL": redis_url, "EMBEDDED_WORKER": "false", "CHANNEL_PREFIX": f"speaker-test-{os.getpid()}"},
    ).start()
    server.start_worker("split-worker")
    # A stream is refused with 503 until a worker is alive with its engine loaded (by
    # design), so each test starts once the worker says so, whichever runs first.
    server.wait_until_ready()
    server.key = server.create_key("splitter")
    yield server
    server.stop()


async def _events_until_completed(server: LiveServer, job_text: str) -> tuple[str, list[dict]]:
    uri = f"ws://127.0.0.1:{server.port}/ws/events/"
    async with websockets.connect(uri, additional_headers={"Authorization": f"Bearer {server.key}"}) as socket:
        snapshot = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert snapshot["type"] == "snapshot"
        response = await asyncio.to_thread(
            requests.post,
            f"{server.url}/api/v1/synthesis",
            json={"text": job_text, "voice": "joe"},
            headers={"X-API-Key": server.key},
            timeout=30,
        )
        job_id = response.json()["id"]
        events: list[dict] = []
        while not events or events[-1]["type"] not in ("job.completed", "job.failed"):
            events.append(json.loads(await asyncio.wait_for(socket.recv(), 90)))
        return job_id, events


async def test_events_from_the_worker_process_reach_the_websocket_in_order(split_server):
    job_id, events = await _events_until_completed(split_server, "Across two processes. Over Redis.")
    types = [e["type"] for e in events]
    assert types[0] == "job.queued" and types[1] == "job.started" and types[-1] == "job.completed"
    assert all(e["job_id"] == job_id for e in events)
    job = await asyncio.to_thread(
        requests.get,
        f"{split_server.url}/api/v1/synthesis/{job_id}",
        headers={"X-API-Key": split_server.key},
        timeout=30,
    )
    assert job.json()["status"] == "completed"


def test_a_stream_is_relayed_from_the_worker_over_the_channel_layer(split_server):
    response = requests.post(
        f"{split_server.url}/api/v1/synthesis/stream",
        json={
            "text": "Streamed by the worker. Relayed by the web.",
            "voice": "joe",
            "format": "pcm",
            "params": {"variability": 0},
        },
        headers={"X-API-Key": split_server.key},
        stream=True,
        timeout=90,
    )
    assert response.status_code == 200
    streamed = audio.from_s16le(response.content)
    assert len(streamed) / 22050 > 1.0
    job = requests.get(
        f"{split_server.url}/api/v1/synthesis/{response.headers['X-Job-ID']}",
        headers={"X-API-Key": split_server.key},
        timeout=30,
    ).json()
    assert job["mode"] == "stream" and job["status"] in ("running", "completed")
