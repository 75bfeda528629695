"""Every job transition tells the owner's sockets, the metrics and the audit log, each
from one place (synthesis.job_events; docs/ARCHITECTURE.md, "The queue"): what a client
receives over /ws/events/ for queued, started, progress, completed, failed, cancelled
and requeued, and what each end adds to the Prometheus series and the audit log."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.asgi import get_asgi_application
from django.utils import timezone

from core.events import set_server_loop
from engine_host.worker import EngineWorker
from monitoring.metrics import REGISTRY
from monitoring.models import AuditEvent
from speaker_site.routing import build_application
from synthesis.models import SynthesisJob
from synthesis.queue import job_claim_next, job_release, job_requeue_abandoned, job_requeue_expired
from tests.synthesis.conftest import job, run_once_in_thread

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("piper_only")]

TWO_SENTENCES = "First sentence here. Second sentence there."


@pytest.fixture
async def owner_socket(owner_key):  # type: ignore[no-untyped-def]
    """The owner's dashboard socket, its snapshot read."""
    set_server_loop(asyncio.get_running_loop())
    app = build_application(get_asgi_application(), embedded_worker=False)
    socket = WebsocketCommunicator(app, "/ws/events/", headers=[(b"x-api-key", owner_key.encode())])
    assert (await socket.connect(timeout=10))[0]
    assert (await socket.receive_json_from(timeout=10))["type"] == "snapshot"
    yield socket
    await socket.disconnect()


async def events_until(socket: WebsocketCommunicator, last: str) -> list[dict[str, Any]]:
    """What the client receives up to the first `last` event, without the socket's `seq`."""
    seen: list[dict[str, Any]] = []
    while not seen or seen[-1]["type"] != last:
        message = await socket.receive_json_from(timeout=60)
        message.pop("seq")
        seen.append(message)
    return seen


def requests_total(status: str) -> float:
    labels = {"endpoint": "job", "engine": "piper", "voice": "joe", "language": "en", "status": status}
    return REGISTRY.get_sample_value("tts_requests_total", labels) or 0.0


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def base(job_id: str, status: str, progress: float = 0.0) -> dict[str, Any]:
    return {"job_id": job_id, "status": status, "progress": progress, "voice": "joe"}


async def test_a_job_tells_its_owner_queued_started_progress_and_completed(owner_socket, post_job):
    successes = requests_total("success")
    durations = sample("tts_request_duration_seconds_sum", endpoint="job", engine="piper")
    first_audio = sample("tts_time_to_first_audio_seconds_count", engine="piper", mode="job")
    factors = sample("tts_realtime_factor_count", engine="piper")

    job_id = (await sync_to_async(post_job)(TWO_SENTENCES, params={"variability": 0})).json()["id"]
    await asyncio.to_thread(run_once_in_thread, EngineWorker(worker_id="events", max_active=1))
    events = await events_until(owner_socket, "job.completed")
    done = await sync_to_async(job)(job_id)

    assert events[0] == {"type": "job.queued", **base(job_id, "queued")}
    assert events[1] == {"type": "job.started", **base(job_id, "running")}
    progress = events[2:-1]
    assert progress
    assert all(event == {"type": "job.progress", **base(job_id, "running", event["progress"])} for event in progress)
    assert [event["progress"] for event in progress] == sorted({event["progress"] for event in progress})
    assert 0 < progress[0]["progress"] and progress[-1]["progress"] < 1
    assert events[-1] == {
        "type": "job.completed",
        **base(job_id, "completed", 1.0),
        "audio_url": f"/api/v1/synthesis/{job_id}/audio",
        "audio_duration": done.audio_duration,
    }
    # Counted once, with the seconds stored on the job.
    assert requests_total("success") == successes + 1
    assert sample("tts_request_duration_seconds_sum", endpoint="job", engine="piper") == pytest.approx(
        durations + done.synthesis_seconds, rel=1e-9
    )
    assert sample("tts_time_to_first_audio_seconds_count", engine="piper", mode="job") == first_audio + 1
    assert sample("tts_realtime_factor_count", engine="piper") == factors + 1


async def test_a_failed_job_tells_its_owner_counts_the_failure_and_is_audited(owner_socket, post_job):
    failures, errors = requests_total("failure"), sample("tts_errors_total", type="engine_error")
    job_id = (await sync_to_async(post_job)(TWO_SENTENCES)).json()["id"]
    await sync_to_async(SynthesisJob.objects.filter(pk=job_id).update)(voice=None)  # its voice was deleted
    await asyncio.to_thread(run_once_in_thread, EngineWorker(worker_id="events", max_active=1))
    events = await events_until(owner_socket, "job.failed")

    assert [event["type"] for event in events] == ["job.queued", "job.started", "job.failed"]
    assert events[-1] == {
        "type": "job.failed",
        **base(job_id, "failed"),
        "error": {"code": "engine_error", "message": "the job's voice was deleted"},
    }
    assert requests_total("failure") == failures + 1
    assert sample("tts_errors_total", type="engine_error") == errors + 1
    audit = await sync_to_async(AuditEvent.objects.get)(action="job.failed", target_id=job_id)
    assert (audit.outcome, audit.target_type, audit.username) == ("failure", "synthesis_job", "olivia")
    assert audit.details == {"code": "engine_error", "message": "the job's voice was deleted", "attempts": 1}


async def test_a_cancelled_job_tells_its_owner_counts_the_cancellation_and_is_audited(
    owner_socket, post_job, owner_api
):
    cancellations = requests_total("cancelled")
    job_id = (await sync_to_async(post_job)(TWO_SENTENCES)).json()["id"]
    assert (await sync_to_async(owner_api.post)(f"/api/v1/synthesis/{job_id}/cancel")).status_code == 200
    events = await events_until(owner_socket, "job.cancelled")

    assert events == [
        {"type": "job.queued", **base(job_id, "queued")},
        {"type": "job.cancelled", **base(job_id, "cancelled")},
    ]
    assert requests_total("cancelled") == cancellations + 1
    audit = await sync_to_async(AuditEvent.objects.get)(action="job.cancelled", target_id=job_id)
    assert (audit.outcome, audit.target_type, audit.username) == ("success", "synthesis_job", "olivia")


def _lease_expired(claimed: SynthesisJob) -> None:
    SynthesisJob.objects.filter(pk=claimed.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert job_requeue_expired() == 1


def _worker_restarted(claimed: SynthesisJob) -> None:
    assert job_requeue_abandoned(lease_owners=[claimed.lease_owner]) == 1


def _worker_stopping(claimed: SynthesisJob) -> None:
    assert job_release(job=claimed, worker_id=claimed.lease_owner) is True


@pytest.mark.parametrize("worker_gone", [_lease_expired, _worker_restarted, _worker_stopping])
async def test_a_job_back_in_the_queue_tells_its_owner_it_was_requeued(owner_socket, post_job, worker_gone):
    job_id = (await sync_to_async(post_job)(TWO_SENTENCES)).json()["id"]
    claimed = await sync_to_async(job_claim_next)(worker_id="gone")  # the claim is what says "started"
    await sync_to_async(worker_gone)(claimed)
    events = await events_until(owner_socket, "job.requeued")

    assert events == [
        {"type": "job.queued", **base(job_id, "queued")},
        {"type": "job.started", **base(job_id, "running")},
        {"type": "job.requeued", **base(job_id, "queued")},
    ]
    assert (await sync_to_async(job)(job_id)).status == "queued"
