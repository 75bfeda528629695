"""The whole spine on real engines: a Piper recording becomes a consented clone sample,
the worker prepares the voice on a (tiny, randomly initialised) XTTS v2 checkpoint,
then jobs with the built-in voice and the clone complete, events arrive in order on the
websocket, and every format downloads. Nothing here is mocked."""

from __future__ import annotations

import asyncio
import io

import numpy as np
import pytest
import soundfile as sf
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.asgi import get_asgi_application

from core.events import set_server_loop
from engine_host.worker import EngineWorker
from speaker_site.routing import build_application
from speech import audio
from tests.conftest_engines import piper_engine, tiny_xtts_dir  # noqa: F401 - fixtures
from tests.synthesis.conftest import run_once_in_thread

pytestmark = pytest.mark.django_db(transaction=True)

TINY_PARAMS = {"do_sample": False, "seed": 7, "max_new_tokens": 8}


@pytest.fixture
def both_engines(settings, tiny_xtts_dir):  # type: ignore[no-untyped-def]  # noqa: F811
    from core.engines import reset_registry

    settings.TTS_ENGINES = ["piper", "xtts"]
    settings.XTTS_MODEL_DIR = str(tiny_xtts_dir)
    settings.XTTS_DEVICE = "cpu"
    reset_registry()
    yield
    reset_registry()


@pytest.fixture
def piper_recording(piper_engine) -> bytes:  # type: ignore[no-untyped-def]  # noqa: F811
    pcm = piper_engine.synthesize_all(
        "Hello, my name is Joe. I agree to have my voice cloned for this test. Thank you very much.", language="en"
    )
    assert len(pcm) / piper_engine.sample_rate > 4
    return audio.encode(pcm, piper_engine.sample_rate, "wav")


async def next_event(socket: WebsocketCommunicator, wanted: str) -> list[dict]:
    seen = []
    while True:
        message = await socket.receive_json_from(timeout=120)
        seen.append(message)
        if message["type"] == wanted:
            return seen


async def test_clone_a_voice_and_speak_with_it_end_to_end(both_engines, owner_key, owner_api, piper_recording):
    set_server_loop(asyncio.get_running_loop())
    app = build_application(get_asgi_application(), embedded_worker=False)
    socket = WebsocketCommunicator(app, "/ws/events/", headers=[(b"x-api-key", owner_key.encode())])
    assert (await socket.connect(timeout=10))[0]
    assert (await socket.receive_json_from(timeout=10))["type"] == "snapshot"
    worker = EngineWorker(worker_id="e2e")

    upload = io.BytesIO(piper_recording)
    upload.name = "joe.wav"
    created = await sync_to_async(owner_api.post)(
        "/api/v1/voices",
        {"name": "Joe clone", "language": "en", "samples": [upload], "consent": "true"},
        format="multipart",
    )
    assert created.status_code == 201, created.content
    voice = created.json()
    assert voice["status"] == "processing"

    await asyncio.to_thread(run_once_in_thread, worker)
    ready = await next_event(socket, "voice.ready")
    assert ready[-1]["voice_id"] == voice["id"]
    assert (await sync_to_async(owner_api.get)(f"/api/v1/voices/{voice['id']}")).json()["status"] == "ready"

    job_ids = {}
    for name, ref in (("builtin", "joe"), ("clone", voice["id"])):
        response = await sync_to_async(owner_api.post)(
            "/api/v1/synthesis",
            {"text": "Hello there. Second sentence.", "voice": ref, "params": TINY_PARAMS},
            format="json",
        )
        assert response.status_code == 202, response.content
        job_ids[name] = response.json()["id"]
    await asyncio.to_thread(run_once_in_thread, worker)
    await asyncio.to_thread(run_once_in_thread, worker)

    events = await next_event(socket, "job.completed")
    events += await next_event(socket, "job.completed")
    for job_id in job_ids.values():
        mine = [e["type"] for e in events if e.get("job_id") == job_id]
        assert mine[0] == "job.queued" and mine[1] == "job.started" and mine[-1] == "job.completed"
        assert "job.progress" in mine
    await socket.disconnect()

    expected_rate = {"builtin": 22050, "clone": 24000}
    for name, job_id in job_ids.items():
        job = (await sync_to_async(owner_api.get)(f"/api/v1/synthesis/{job_id}")).json()
        assert job["status"] == "completed" and job["engine"] == ("piper" if name == "builtin" else "xtts")
        for fmt in audio.FORMATS:
            response = await sync_to_async(owner_api.get)(f"/api/v1/synthesis/{job_id}/audio?format={fmt}")
            assert response.status_code == 200
            data = b"".join(response.streaming_content) if response.streaming else response.content
            if fmt == "pcm":
                pcm = audio.from_s16le(data)
            elif fmt == "mp3" and expected_rate[name] not in audio.MP3_SAMPLE_RATES:
                pytest.fail(f"mp3 cannot hold {expected_rate[name]} Hz")
            else:
                pcm, rate = sf.read(io.BytesIO(data), dtype="float32")
                assert rate == expected_rate[name]
            assert len(pcm) > 0 and np.isfinite(pcm).all()
