"""job.progress goes out once per step: XTTS yields several chunks per sentence, and the
worker used to send the same progress again for each of them."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.asgi import get_asgi_application

from core.events import set_server_loop
from engine_host.worker import EngineWorker
from speaker_site.routing import build_application
from tests.conftest_engines import (  # noqa: F401 - fixtures
    cloned_voice,
    engine_registry,
    piper_engine,
    reference_samples,
    tiny_xtts_dir,
    xtts_engine,
)
from tests.synthesis.conftest import run_once_in_thread
from voices.models import Voice

pytestmark = pytest.mark.django_db(transaction=True)

TINY_PARAMS = {"do_sample": False, "seed": 7, "max_new_tokens": 8}


@pytest.fixture
def tiny_xtts_registry(monkeypatch, engine_registry):  # type: ignore[no-untyped-def]  # noqa: F811
    import core.engines as registry_module

    monkeypatch.setattr(registry_module, "_registry", engine_registry)
    return engine_registry


async def test_each_progress_step_is_sent_once(
    tiny_xtts_registry, owner, owner_key, owner_api, xtts_engine, cloned_voice
):  # noqa: F811
    voice = await sync_to_async(Voice.objects.create)(
        owner=owner,
        name="Clone",
        language="en",
        engine="xtts",
        status="ready",
        conditioning=cloned_voice,
        conditioning_engine="xtts",
    )
    set_server_loop(asyncio.get_running_loop())
    app = build_application(get_asgi_application(), embedded_worker=False)
    socket = WebsocketCommunicator(app, "/ws/events/", headers=[(b"x-api-key", owner_key.encode())])
    assert (await socket.connect(timeout=10))[0]
    assert (await socket.receive_json_from(timeout=10))["type"] == "snapshot"

    response = await sync_to_async(owner_api.post)(
        "/api/v1/synthesis",
        {
            "text": "First sentence here. Second one there. Third and last.",
            "voice": str(voice.pk),
            "params": TINY_PARAMS,
        },
        format="json",
    )
    assert response.status_code == 202, response.content
    await asyncio.to_thread(run_once_in_thread, EngineWorker(worker_id="progress-test"))

    events = []
    while not events or events[-1]["type"] != "job.completed":
        events.append(await socket.receive_json_from(timeout=120))
    await socket.disconnect()

    progress = [event["progress"] for event in events if event["type"] == "job.progress"]
    assert progress, [event["type"] for event in events]
    assert progress == sorted(set(progress)), progress  # rising, never the same step twice
    assert len(progress) <= 3  # one per sentence at most
