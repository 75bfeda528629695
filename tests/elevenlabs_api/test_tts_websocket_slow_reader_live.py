"""A voice agent that stops reading its text-to-speech websocket: the server does not
buffer its audio without bound. Once more than WEBSOCKET_MAX_UNSENT_BYTES wait in the
server's write buffer, the generation is cancelled, the rest of the reply is never
generated and the socket is closed (`slow_consumer`, docs/voice-agents.md "Message reference"),
while other clients are served as before. Live, under daphne: the unsent bytes are
Twisted's (core/daphne_compat.py, "Unsent bytes")."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import urllib.request

import pytest
import websockets

from tests.live import LiveServer

# Far below the default (1 MiB), so that the kernel's buffers plus this fill within
# seconds of audio; the mechanism is the same.
LIMIT = 65536
# About two minutes of speech, one piece per sentence: far more audio (at 44.1 kHz, in
# base64) than the kernel buffers of one loopback connection hold.
SENTENCES = [f"This is sentence number {n} of a reply that nobody is listening to." for n in range(1, 28)]
STOPPED_READING = "client stopped reading"


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # type: ignore[no-untyped-def]
    live = LiveServer(
        tmp_path_factory.mktemp("slow-reader"), extra_env={"WEBSOCKET_MAX_UNSENT_BYTES": str(LIMIT)}
    ).start()
    live.wait_until_ready()
    yield live
    live.stop()


def _joe(server: LiveServer, key: str) -> str:
    request = urllib.request.Request(f"{server.url}/v1/voices", headers={"xi-api-key": key})
    with urllib.request.urlopen(request, timeout=30) as response:
        return next(v["voice_id"] for v in json.load(response)["voices"] if v["name"] == "joe")


def _job_statuses(server: LiveServer) -> list[str]:
    return [status for (status,) in server._query("SELECT status FROM synthesis_synthesisjob ORDER BY queued_at")]


def _server_log(server: LiveServer) -> str:
    return (server.workdir / "daphne.log").read_text(errors="replace")


async def test_an_agent_that_stops_reading_is_cut_off_and_nothing_more_is_generated(server):
    key = server.create_key("absent-listener")
    joe = _joe(server, key)
    # A client that reads nothing: a small receive buffer, and a websocket client that
    # stops taking frames from the connection after one unread message.
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", server.port))
    raw.setblocking(False)
    url = f"ws://127.0.0.1:{server.port}/v1/text-to-speech/{joe}/stream-input?output_format=pcm_44100"
    async with websockets.connect(url, sock=raw, additional_headers={"xi-api-key": key}, max_queue=1) as agent:
        await agent.send(json.dumps({"text": " "}))
        for sentence in SENTENCES:
            await agent.send(json.dumps({"text": sentence + " "}))
        await agent.send(json.dumps({"text": ""}))

        # Not reading: the server notices and says so in its log.
        deadline = time.monotonic() + 90
        while STOPPED_READING not in _server_log(server):
            assert time.monotonic() < deadline, f"not noticed; jobs: {_job_statuses(server)}"
            await asyncio.sleep(0.5)
        # Another client is served meanwhile, as usual.
        with urllib.request.urlopen(f"{server.url}/health", timeout=10) as response:
            assert response.status == 200

        # Reading again, the agent finds its connection closed by the server (a close
        # frame after the audio it left, or a reset once the closing handshake has
        # timed out: it was not there to answer it).
        with pytest.raises((websockets.ConnectionClosed, ConnectionError)):
            while True:
                await asyncio.wait_for(agent.recv(), 30)

    # Nothing is still being generated for it, and the rest of the reply never was.
    statuses = _job_statuses(server)
    assert statuses and not {"queued", "running"} & set(statuses), statuses
    assert len(statuses) < len(SENTENCES), statuses
