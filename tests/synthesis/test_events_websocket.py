"""/ws/events/: authenticated at connect, snapshot first, then the owner's events only."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.asgi import get_asgi_application

from core.events import set_server_loop
from engine_host.worker import EngineWorker
from speaker_site.routing import build_application
from tests.synthesis.conftest import run_once_in_thread

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("piper_only")]


@pytest.fixture
def app():  # type: ignore[no-untyped-def]
    return build_application(get_asgi_application(), embedded_worker=False)


def connect(app, headers: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:  # type: ignore[no-untyped-def]
    return WebsocketCommunicator(app, "/ws/events/", headers=headers)


async def receive_until(socket: WebsocketCommunicator, event: str, timeout: float = 30) -> list[dict]:
    seen: list[dict] = []
    while True:
        message = await socket.receive_json_from(timeout=timeout)
        seen.append(message)
        if message["type"] == event:
            return seen


async def refusal(socket: WebsocketCommunicator) -> tuple[int, str]:
    """A refused socket is accepted only to say why: an `error` message, then a close with
    a code and a reason. Answers (close code, error code)."""
    # Bounds for waiting, not for speed: the communicator's 1 s defaults ran out on a
    # loaded CI machine before the first test's socket had even been authenticated.
    connected, _ = await socket.connect(timeout=10)
    assert connected, "a refused socket is accepted first, so that it can say why"
    error = await socket.receive_json_from(timeout=10)
    assert error["type"] == "error" and error["error"]["message"]
    close = await socket.receive_output(timeout=10)
    assert close["type"] == "websocket.close" and close["reason"]
    assert error["error"]["details"]["close_code"] == close["code"]
    return close["code"], error["error"]["code"]


async def test_an_unauthenticated_socket_is_closed(app):
    socket = connect(app, [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")])
    assert await refusal(socket) == (4401, "not_authenticated")


async def test_a_bad_key_is_closed(app):
    socket = connect(app, [(b"authorization", b"Bearer spk_nope_nope")])
    assert await refusal(socket) == (4401, "not_authenticated")


async def test_a_key_in_the_query_string_is_not_accepted(app, owner_key):
    socket = WebsocketCommunicator(app, f"/ws/events/?api_key={owner_key}")
    assert await refusal(socket) == (4401, "not_authenticated")


async def test_a_key_client_without_origin_gets_a_snapshot_first(app, owner_key):
    socket = connect(app, [(b"x-api-key", owner_key.encode())])
    connected, _ = await socket.connect(timeout=10)
    assert connected
    snapshot = await socket.receive_json_from(timeout=10)
    assert snapshot == {"type": "snapshot", "jobs": [], "voices": []}
    await socket.disconnect()


async def test_a_cookie_session_needs_an_allowed_origin(app, owner, client):
    await sync_to_async(client.force_login)(owner)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    foreign = connect(app, [(b"cookie", cookie), (b"origin", b"https://evil.example"), (b"host", b"localhost")])
    assert await refusal(foreign) == (4403, "origin_not_allowed")
    no_origin = connect(app, [(b"cookie", cookie), (b"host", b"localhost")])
    assert (await refusal(no_origin))[0] == 4401
    same_site = connect(app, [(b"cookie", cookie), (b"origin", b"http://localhost"), (b"host", b"localhost")])
    assert (await same_site.connect())[0] is True
    assert (await same_site.receive_json_from(timeout=10))["type"] == "snapshot"
    await same_site.disconnect()


async def test_the_owner_receives_job_events_in_order_and_the_outsider_none(app, owner_key, outsider_api, post_job):
    set_server_loop(asyncio.get_running_loop())
    owner_socket = connect(app, [(b"authorization", f"Bearer {owner_key}".encode())])
    assert (await owner_socket.connect(timeout=10))[0]
    await owner_socket.receive_json_from(timeout=10)  # snapshot
    outsider_key = outsider_api._credentials["HTTP_AUTHORIZATION"].split()[1]
    outsider_socket = connect(app, [(b"x-api-key", outsider_key.encode())])
    assert (await outsider_socket.connect(timeout=10))[0]
    await outsider_socket.receive_json_from(timeout=10)

    job_id = (await sync_to_async(post_job)("First sentence here. Second sentence there.")).json()["id"]
    worker = EngineWorker(worker_id="ws-test")
    await asyncio.to_thread(run_once_in_thread, worker)

    events = await receive_until(owner_socket, "job.completed")
    types = [e["type"] for e in events]
    assert types[0] == "job.queued" and types[1] == "job.started" and types[-1] == "job.completed"
    assert "job.progress" in types
    assert all(e["job_id"] == job_id for e in events)
    progress = [e["progress"] for e in events if e["type"] == "job.progress"]
    assert progress == sorted(progress)
    assert events[-1]["audio_url"] == f"/api/v1/synthesis/{job_id}/audio"
    assert await outsider_socket.receive_nothing(timeout=0.5)
    await owner_socket.disconnect()
    await outsider_socket.disconnect()


async def test_a_reconnecting_client_gets_active_jobs_in_the_snapshot(app, owner_key, post_job):
    job_id = (await sync_to_async(post_job)("Waiting in line.")).json()["id"]
    socket = connect(app, [(b"x-api-key", owner_key.encode())])
    assert (await socket.connect(timeout=10))[0]
    snapshot = await socket.receive_json_from(timeout=10)
    assert [j["job_id"] for j in snapshot["jobs"]] == [job_id]
    assert snapshot["jobs"][0]["status"] == "queued"
    await socket.disconnect()


async def test_revoking_the_key_closes_its_socket(app, owner_key, owner_api):
    set_server_loop(asyncio.get_running_loop())
    socket = connect(app, [(b"x-api-key", owner_key.encode())])
    assert (await socket.connect(timeout=10))[0]
    await socket.receive_json_from(timeout=10)
    me = await sync_to_async(owner_api.get)("/api/v1/me")
    from accounts.models import APIKey

    key = await sync_to_async(APIKey.objects.get)(prefix=me.json()["key"]["prefix"])
    await sync_to_async(owner_api.delete)(f"/api/v1/keys/{key.pk}")
    assert (await socket.receive_json_from(timeout=10))["type"] == "key.revoked"
    assert (await socket.receive_output(timeout=2))["type"] == "websocket.close"


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param({"text_data": "[" * 5000 + "]" * 5000}, id="nested-5000-deep"),
        pytest.param({"text_data": '{"type": "snapshot", "x": "\\u0000"}'}, id="nul"),
        pytest.param({"text_data": '{"type": "snapshot", "x": "\\ud800"}'}, id="lone-surrogate"),
        pytest.param({"text_data": "{not json"}, id="not-json"),
        pytest.param({"bytes_data": b"\x00\x01binary"}, id="binary"),
    ],
)
async def test_a_frame_the_socket_cannot_read_closes_it_with_a_reason(app, owner_key, frame):
    socket = connect(app, [(b"x-api-key", owner_key.encode())])
    connected, _ = await socket.connect(timeout=10)
    assert connected
    assert (await socket.receive_json_from(timeout=10))["type"] == "snapshot"
    await socket.send_to(**frame)
    error = await socket.receive_json_from(timeout=10)
    assert error["type"] == "error" and error["error"]["code"] == "invalid_message"
    assert error["error"]["message"].startswith("The message could not be read: ")
    close = await socket.receive_output(timeout=10)
    assert close == {"type": "websocket.close", "code": 4400, "reason": close["reason"]} and close["reason"]


async def test_a_socket_that_sent_a_bad_frame_leaves_the_owners_other_sockets_open(app, owner_key):
    bad = connect(app, [(b"x-api-key", owner_key.encode())])
    good = connect(app, [(b"x-api-key", owner_key.encode())])
    for socket in (bad, good):
        assert (await socket.connect(timeout=10))[0]
        assert (await socket.receive_json_from(timeout=10))["type"] == "snapshot"
    await bad.send_to(text_data="[" * 5000)
    assert (await bad.receive_json_from(timeout=10))["error"]["code"] == "invalid_message"
    await good.send_json_to({"type": "snapshot"})
    assert (await good.receive_json_from(timeout=10))["type"] == "snapshot"
    await good.disconnect()
