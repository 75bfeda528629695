"""Least-loaded claiming (docs/ARCHITECTURE.md, "Fair scheduling"): a worker that is
already generating leaves a new stream to a live worker that holds fewer jobs, for at
most WORKER_CLAIM_DEFER_SECONDS; then it claims the stream itself, so a wedged worker
never strands one. Two real workers in this process, driven step by step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from core.engines import get_registry
from core.wakeup import wake_worker, worker_channel
from engine_host.worker import EngineWorker
from synthesis.models import SynthesisJob, WorkerHeartbeat
from synthesis.queue import WorkerSlots, job_claim_deferrals, job_claim_for_worker, set_local_waker
from voices.models import Voice

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("piper_only")]

DEFER = 1.0


@pytest.fixture
def workers(settings):  # type: ignore[no-untyped-def]
    """Workers A and B, started: their engines loaded, their heartbeats written."""
    settings.WORKER_CLAIM_DEFER_SECONDS = DEFER
    get_registry().get("piper")  # what a worker's start-up does before its first heartbeat
    a, b = EngineWorker(worker_id="worker-a"), EngineWorker(worker_id="worker-b")
    a.heartbeat(force=True)
    b.heartbeat(force=True)
    yield a, b
    for worker in (a, b):
        worker.join_active(timeout=120)


def _queue(owner, *, mode: str = SynthesisJob.Mode.STREAM, text: str = "A listener is waiting.") -> SynthesisJob:  # type: ignore[no-untyped-def]
    """A job as job_create queues it; a stream relayed to a separate worker has a channel."""
    stream = mode == SynthesisJob.Mode.STREAM
    return SynthesisJob.objects.create(
        owner=owner,
        voice=Voice.objects.get(engine="piper", builtin_key="joe"),
        voice_name="joe",
        engine="piper",
        language="en",
        text=text,
        params={"variability": 0},
        mode=mode,
        priority=SynthesisJob.Priority.INTERACTIVE if stream else SynthesisJob.Priority.JOB,
        stream_channel="nobody-listens-in-this-test" if stream else "",
    )


def _asks(worker: EngineWorker) -> SynthesisJob | None:
    """The worker asks the queue for a job, as its claim loop does; every slot free (the
    jobs a test makes it hold are leased to it, not generating in its threads)."""
    return job_claim_for_worker(worker_id=worker.worker_id, slots=WorkerSlots(size=worker.max_active)).job


def _has_waited(job: SynthesisJob, seconds: float) -> None:
    """Time passing for one queued job: it was queued `seconds` ago."""
    SynthesisJob.objects.filter(pk=job.pk).update(queued_at=job.queued_at - timedelta(seconds=seconds))


def _fresh(job: SynthesisJob) -> SynthesisJob:
    return SynthesisJob.objects.get(pk=job.pk)


def test_a_busy_worker_leaves_a_new_stream_to_the_idle_one_and_claims_it_after_the_defer_time(owner, workers):
    a, b = workers
    first = _queue(owner)
    # An idle worker claims at once, though another one is live.
    assert _asks(a) == first  # A holds it (its lease)

    second = _queue(owner)
    passed_on: list[str] = []
    set_local_waker(lambda: passed_on.append("wake"))
    try:
        assert a.run_once(wait=False) is False  # A holds one job, B none: A leaves the stream
        a.run_once(wait=False)  # looking again before the defer time changes nothing...
    finally:
        set_local_waker(None)
    assert _fresh(second).status == "queued" and a.active_jobs == []
    assert passed_on == ["wake"]  # ...and the wake-up was passed on once, for the idle worker
    assert job_claim_deferrals(worker_id=a.worker_id).to == (b.worker_id,)  # on B's own channel
    # A looks again when the stream becomes its own to claim: within the defer time.
    assert a.claim_retry_at == _fresh(second).queued_at + timedelta(seconds=DEFER)

    assert b.run_once()  # the idle worker claims it and generates it
    assert _fresh(second).completed_by == b.worker_id

    third = _queue(owner)
    a.run_once(wait=False)
    assert _fresh(third).status == "queued"  # left to B again (B holds none)...
    _has_waited(third, DEFER + 0.5)
    assert a.run_once()  # ...until the defer time is over: B did not take it, A does
    assert _fresh(third).completed_by == a.worker_id
    assert a.claim_retry_at is None


def test_workers_holding_as_many_jobs_claim_at_once(owner, workers):
    a, b = workers
    held_by_a, held_by_b = _queue(owner), _queue(owner)
    assert _asks(a) == held_by_a
    assert _asks(b) == held_by_b
    third = _queue(owner)
    assert _asks(a) == third  # B holds one too
    fourth = _queue(owner)
    assert _asks(a) is None  # now A holds more
    assert _asks(b) == fourth


def _its_heartbeat_is_stale(worker, settings):  # type: ignore[no-untyped-def]  # wedged, or gone
    stale = WorkerHeartbeat.objects.get(worker_id=worker.worker_id).last_seen - timedelta(
        seconds=settings.WORKER_HEARTBEAT_MAX_AGE + 1
    )
    WorkerHeartbeat.objects.filter(worker_id=worker.worker_id).update(last_seen=stale)


def _it_has_not_loaded_the_streams_engine(worker, settings):  # type: ignore[no-untyped-def]
    WorkerHeartbeat.objects.filter(worker_id=worker.worker_id).update(
        engines=[
            {"name": "piper", "available": True, "loaded": False},
            {"name": "xtts", "available": True, "loaded": True},
        ]
    )


@pytest.mark.parametrize("cannot_take_it", [_its_heartbeat_is_stale, _it_has_not_loaded_the_streams_engine])
def test_a_worker_that_cannot_take_the_stream_is_not_waited_for(owner, workers, settings, cannot_take_it):  # type: ignore[no-untyped-def]
    a, b = workers
    _queue(owner)
    _asks(a)
    cannot_take_it(b, settings)
    second = _queue(owner)
    assert _asks(a) == second


def test_queued_jobs_are_claimed_at_once_only_streams_are_left(owner, workers):
    a, _ = workers
    _queue(owner)
    _asks(a)
    queued = _queue(owner, mode=SynthesisJob.Mode.JOB)  # nobody is listening: no first audio to hurry
    assert _asks(a) == queued


def test_a_defer_time_of_zero_turns_it_off(owner, workers, settings):
    a, _ = workers
    settings.WORKER_CLAIM_DEFER_SECONDS = 0
    _queue(owner)
    _asks(a)
    second = _queue(owner)
    assert _asks(a) == second


def test_a_wake_up_for_one_worker_arrives_on_that_worker_s_own_channel():
    """What a busy worker sends the worker it leaves a stream to (runengine listens on
    the shared engine channel and on its own)."""
    worker_id = "gpu-host-1:4242:a1b2c3"
    channel = worker_channel(worker_id)
    layer = get_channel_layer()
    layer.valid_channel_name(channel)  # raises for a name the layer would refuse
    assert channel != worker_channel("gpu-host-1:4242:a1b2c4")
    wake_worker(worker_id)
    assert async_to_sync(layer.receive)(channel) == {"type": "engine.wake"}


def test_a_worker_with_no_free_slot_still_wakes_the_worker_it_leaves_a_stream_to_once(owner, workers):
    a, b = workers
    first = _queue(owner)
    assert _asks(a) == first
    second = _queue(owner)
    full = WorkerSlots(size=1, held=(SynthesisJob.Priority.INTERACTIVE,))

    answer = job_claim_for_worker(worker_id=a.worker_id, slots=full)
    assert answer.job is None
    assert answer.wake == (b.worker_id,) and answer.left == {second.pk}
    assert answer.retry_at == _fresh(second).queued_at + timedelta(seconds=DEFER)
    again = job_claim_for_worker(worker_id=a.worker_id, slots=full, left_before=answer.left)
    assert again.wake == () and again.left == answer.left  # woken once per stream
    assert _fresh(second).status == "queued"
