"""Events a client can trust: a final job event reaches the socket even when the channel
layer drops its message, and a socket that lost messages is resynced.

The lossy layer below is a failing-part double: the real in-memory channel layer, except
that it drops the group messages a test names — what channels_redis does silently when a
process's inbox is over capacity."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer, channel_layers
from channels.testing import WebsocketCommunicator
from django.core.asgi import get_asgi_application

from core.events import set_server_loop
from engine_host.worker import EngineWorker
from speaker_site.routing import build_application
from tests.synthesis.conftest import run_once_in_thread

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("piper_only")]


class LossyChannelLayer(InMemoryChannelLayer):
    """Failing-part double: drops every group message for which `drop(message)` is true."""

    drop: Callable[[dict[str, Any]], bool] = staticmethod(lambda message: False)  # type: ignore[assignment]
    dropped: list[dict[str, Any]] = []

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        if type(self).drop(message):
            type(self).dropped.append(message)
            return
        await super().group_send(group, message)


@pytest.fixture
def lossy(settings):  # type: ignore[no-untyped-def]
    settings.EVENTS_RECHECK_SECONDS = 0.3
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"{__name__}.LossyChannelLayer"}}
    LossyChannelLayer.dropped = []
    yield LossyChannelLayer
    LossyChannelLayer.drop = staticmethod(lambda message: False)  # type: ignore[assignment]
    channel_layers.backends.clear()


@pytest.fixture
def app(lossy):  # type: ignore[no-untyped-def]
    return build_application(get_asgi_application(), embedded_worker=False)


async def open_socket(app, key: str) -> WebsocketCommunicator:  # type: ignore[no-untyped-def]
    set_server_loop(asyncio.get_running_loop())
    socket = WebsocketCommunicator(app, "/ws/events/", headers=[(b"x-api-key", key.encode())])
    assert (await socket.connect(timeout=10))[0]
    assert (await socket.receive_json_from(timeout=10))["type"] == "snapshot"
    return socket


async def messages_until(
    socket: WebsocketCommunicator, done: Callable[[dict], bool], timeout: float = 10
) -> list[dict]:
    seen: list[dict] = []
    while not seen or not done(seen[-1]):
        seen.append(await socket.receive_json_from(timeout=timeout))
    return seen


async def run_job(post_job, text: str) -> str:  # type: ignore[no-untyped-def]
    job_id = (await sync_to_async(post_job)(text)).json()["id"]
    await asyncio.to_thread(run_once_in_thread, EngineWorker(worker_id="delivery-test"))
    return job_id


async def test_a_dropped_completed_event_still_reaches_the_socket(app, lossy, owner_key, post_job):
    lossy.drop = staticmethod(lambda message: message.get("event") == "job.completed")
    socket = await open_socket(app, owner_key)
    job_id = await run_job(post_job, "Finished, though nobody said so.")
    assert [m["event"] for m in lossy.dropped] == ["job.completed"]

    seen = await messages_until(socket, lambda m: m["type"] == "job.completed", timeout=5)
    final = seen[-1]
    assert final["job_id"] == job_id and final["status"] == "completed"
    assert final["audio_url"] == f"/api/v1/synthesis/{job_id}/audio"
    later = []  # the lost number also brings a resync snapshot, but never the event again
    while not await socket.receive_nothing(timeout=1.0):
        later.append(await socket.receive_json_from(timeout=10))
    assert [m["type"] for m in later if m.get("job_id") == job_id] == []
    await socket.disconnect()


async def test_a_socket_that_lost_every_message_of_a_job_is_resynced_with_its_final_state(
    app, lossy, owner_key, post_job
):
    lossy.drop = staticmethod(lambda message: message.get("event", "").startswith("job."))
    socket = await open_socket(app, owner_key)
    job_id = await run_job(post_job, "Nothing of this job got through.")
    assert lossy.dropped  # the client was never told the job existed

    # The numbers handed out for the lost messages never arrive: the socket is resynced.
    seen = await messages_until(socket, lambda m: m["type"] == "job.completed", timeout=5)
    assert seen[0]["type"] == "snapshot" and seen[0]["resync"] is True
    assert seen[-1]["job_id"] == job_id and seen[-1]["status"] == "completed"
    await socket.disconnect()


async def test_every_message_after_the_first_snapshot_is_numbered_without_gaps(app, lossy, owner_key, post_job):
    lossy.drop = staticmethod(lambda message: message.get("event") == "job.started")
    socket = await open_socket(app, owner_key)
    await run_job(post_job, "Counted. One by one.")
    seen = await messages_until(socket, lambda m: m["type"] == "job.completed", timeout=5)
    assert [m["seq"] for m in seen] == list(range(1, len(seen) + 1))
    await socket.disconnect()


async def test_a_late_hint_does_not_reopen_a_finished_job(app, lossy, owner_key, post_job, owner):
    from core.events import send_user_event
    from synthesis.job_events import job_event_payload
    from synthesis.models import SynthesisJob

    socket = await open_socket(app, owner_key)
    job_id = await run_job(post_job, "Done and dusted.")
    await messages_until(socket, lambda m: m["type"] == "job.completed")
    job = await sync_to_async(SynthesisJob.objects.get)(pk=job_id)
    stale = {**await sync_to_async(job_event_payload)(job), "status": "running", "progress": 0.5}
    await sync_to_async(send_user_event)(user_id=owner.pk, event="job.progress", payload=stale)
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()


async def test_a_client_that_asks_for_a_snapshot_gets_one_numbered_in_its_stream(app, owner_key, post_job):
    socket = await open_socket(app, owner_key)
    job_id = (await sync_to_async(post_job)("Still waiting.")).json()["id"]
    assert (await socket.receive_json_from(timeout=10))["type"] == "job.queued"
    await socket.send_json_to({"type": "snapshot"})
    snapshot = await socket.receive_json_from(timeout=10)
    assert snapshot["type"] == "snapshot" and snapshot["seq"] == 2
    assert [j["job_id"] for j in snapshot["jobs"]] == [job_id]
    await socket.disconnect()
