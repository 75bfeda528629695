"""MAX_CONCURRENT_REQUESTS: a saturated process answers 503 + Retry-After at once."""

from __future__ import annotations

import pytest
import requests

from tests.live import LiveServer

TEXT = " ".join(f"Sentence {n} keeps the engine busy for a while longer." for n in range(1, 25))


@pytest.fixture(scope="module")
def one_slot_server(tmp_path_factory):  # type: ignore[no-untyped-def]
    server = LiveServer(tmp_path_factory.mktemp("one-slot"), extra_env={"MAX_CONCURRENT_REQUESTS": "1"}).start()
    server.key = server.create_key("busy")
    yield server
    server.stop()


def test_a_second_stream_gets_503_while_the_first_holds_the_only_slot(one_slot_server):
    server = one_slot_server
    headers = {"X-API-Key": server.key}
    first = requests.post(
        f"{server.url}/api/v1/synthesis/stream",
        json={"text": TEXT, "voice": "joe", "format": "pcm"},
        headers=headers,
        stream=True,
        timeout=60,
    )
    assert first.status_code == 200
    # Keep the iterator: a dropped one is garbage-collected, urllib3 closes the
    # connection, and the server rightly cancels the stream as a client disconnect.
    chunks = first.iter_content(chunk_size=None)
    next(chunks)
    second = requests.post(
        f"{server.url}/api/v1/synthesis/stream",
        json={"text": "Me too.", "voice": "joe", "format": "pcm"},
        headers=headers,
        timeout=60,
    )
    assert second.status_code == 503
    assert second.json()["error"]["code"] == "service_unavailable" and int(second.headers["Retry-After"]) >= 1
    assert len(b"".join(chunks)) > 0  # drain: the slot is released when the stream ends
    third = requests.post(
        f"{server.url}/api/v1/synthesis/stream",
        json={"text": "Now me.", "voice": "joe", "format": "pcm"},
        headers=headers,
        timeout=60,
    )
    assert third.status_code == 200 and len(third.content) > 1000
