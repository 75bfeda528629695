"""Websockets on the wire, against daphne as `make run` starts it: a path no endpoint
serves is answered with a close code and a reason (never an HTTP 500 from the router),
and the reason of a refusal reaches the client in the close frame."""

from __future__ import annotations

import json

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.live import LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # type: ignore[no-untyped-def]
    live = LiveServer(tmp_path_factory.mktemp("websocket-paths")).start()
    yield live
    live.stop()


async def refusal(url: str) -> tuple[dict, int, str]:
    """Open a socket and read until it closes: (the error message, close code, reason)."""
    async with websockets.connect(url, open_timeout=10) as socket:
        message = json.loads(await socket.recv())
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None
    return message, closed.value.rcvd.code, closed.value.rcvd.reason


@pytest.mark.parametrize("path", ["/ws/nothing-here/", "/ws/events", "/", "/api/v1/me"])
async def test_a_path_no_endpoint_serves_closes_with_4404_and_says_why(server, path):
    message, code, reason = await refusal(f"ws://127.0.0.1:{server.port}{path}")
    assert message["type"] == "error"
    assert message["error"]["code"] == "not_found"
    assert message["error"]["details"] == {"close_code": 4404}
    assert code == 4404
    assert reason.startswith("No websocket endpoint at this path") and "/ws/events/" in reason


async def test_a_refused_events_socket_carries_its_reason_in_the_close_frame(server):
    message, code, reason = await refusal(f"ws://127.0.0.1:{server.port}/ws/events/")
    assert message["error"]["code"] == "not_authenticated"
    assert code == 4401
    assert reason == message["error"]["message"][:120]


async def test_the_events_socket_still_opens_with_a_key(server):
    key = server.create_key("listener")
    url = f"ws://127.0.0.1:{server.port}/ws/events/"
    async with websockets.connect(url, additional_headers={"X-API-Key": key}, open_timeout=10) as socket:
        assert json.loads(await socket.recv())["type"] == "snapshot"
