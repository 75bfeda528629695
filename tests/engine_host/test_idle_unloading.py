"""Idle unloading in the engine worker (docs/operations.md "Idle unloading"): with
ENGINE_IDLE_UNLOAD_SECONDS set, a worker whose model has served nothing for that long
frees it and stays live; the health page and the metrics say it is unloaded and when it
was last loaded; the next job loads it again and says so in its `status_note`; a stream
goes first to a worker that has its model loaded. Time is a `ManualClock` set on the
engine (a clock mock), moved by hand: nothing waits for the real idle time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.engines import get_registry
from engine_host.worker import EngineWorker
from synthesis.models import SynthesisJob, WorkerHeartbeat
from synthesis.queue import WorkerSlots, job_claim_for_worker
from tests.monitoring.test_prometheus_endpoint import scrape, value
from tests.speech.test_idle_unloading import ManualClock, _with_manual_clock
from voices.models import Voice

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("piper_only")]

IDLE_FOR = 600


@pytest.fixture
def clock(settings) -> ManualClock:  # type: ignore[no-untyped-def]
    """Idle unloading on, and the Piper model loaded (a worker's start-up) on a clock
    the test moves."""
    settings.ENGINE_IDLE_UNLOAD_SECONDS = IDLE_FOR
    clock = ManualClock()
    _with_manual_clock(get_registry().get("piper"), clock)
    return clock


@pytest.fixture
def worker() -> EngineWorker:
    worker = EngineWorker(worker_id="home-server")
    worker.heartbeat(force=True)
    return worker


def _piper_in_heartbeat(worker: EngineWorker) -> dict:
    row = WorkerHeartbeat.objects.get(worker_id=worker.worker_id)
    return next(engine for engine in row.engines if engine["name"] == "piper")


def test_an_idle_worker_unloads_its_model_and_stays_live(clock, worker):
    worker.run_once()
    assert get_registry().engine("piper").is_loaded  # used just now

    clock.advance(IDLE_FOR)
    seen_before = WorkerHeartbeat.objects.get(worker_id=worker.worker_id).last_seen
    worker.run_once()
    assert not get_registry().engine("piper").is_loaded
    heartbeat = WorkerHeartbeat.objects.get(worker_id=worker.worker_id)
    assert heartbeat.last_seen > seen_before  # still beating while unloaded
    assert _piper_in_heartbeat(worker)["loaded"] is False
    assert _piper_in_heartbeat(worker)["loaded_at"] is not None  # the last load is kept

    worker._last_heartbeat = 0  # the next sweep's heartbeat is due
    worker.run_once()
    assert WorkerHeartbeat.objects.get(worker_id=worker.worker_id).last_seen > heartbeat.last_seen


def test_the_worker_wakes_up_when_its_model_is_due_to_unload_rather_than_at_the_next_sweep(clock, worker, settings):
    settings.WORKER_SWEEP_SECONDS = 60
    clock.advance(IDLE_FOR - 2)
    assert worker._idle_wait() == pytest.approx(2.01)
    settings.ENGINE_IDLE_UNLOAD_SECONDS = 0  # off: the sweep alone
    assert worker._idle_wait() == 60


def test_with_idle_unloading_off_the_model_stays_loaded(clock, worker, settings):
    settings.ENGINE_IDLE_UNLOAD_SECONDS = 0
    clock.advance(IDLE_FOR * 100)
    worker.run_once()
    assert get_registry().engine("piper").is_loaded


def test_a_job_that_waits_for_the_model_to_load_says_so_and_is_spoken(clock, worker, owner_api):
    clock.advance(IDLE_FOR)
    worker.run_once()
    assert not get_registry().engine("piper").is_loaded

    created = owner_api.post(
        "/api/v1/synthesis", {"text": "Good morning.", "voice": "joe", "language": "en"}, format="json"
    )
    assert created.status_code == 202
    notes: list[str] = []
    engine = get_registry().engine("piper")
    load = engine._load

    def load_and_read_the_note() -> None:  # what the owner sees while the model loads
        notes.append(owner_api.get(f"/api/v1/synthesis/{created.json()['id']}").json()["status_note"])
        load()

    engine._load = load_and_read_the_note
    try:
        worker.run_once()
    finally:
        del engine._load
    job = owner_api.get(f"/api/v1/synthesis/{created.json()['id']}").json()
    assert job["status"] == "completed"
    assert notes == ["Waiting for the piper model to load."]
    assert job["status_note"].startswith("Waited ") and job["status_note"].endswith(" for the piper model to load.")
    assert engine.is_loaded and _piper_in_heartbeat(worker)["loaded"] is True


def test_the_wait_for_the_model_comes_ahead_of_the_note_on_how_the_text_was_read(clock, worker, owner_api):
    clock.advance(IDLE_FOR)
    worker.run_once()
    created = owner_api.post(
        "/api/v1/synthesis",
        {"text": 'One.<break time="99s"/>Two.', "voice": "joe", "language": "en"},
        format="json",
    )
    queued_note = owner_api.get(f"/api/v1/synthesis/{created.json()['id']}").json()["status_note"]
    assert queued_note  # the capped break, said when the job was queued
    worker.run_once()
    job = owner_api.get(f"/api/v1/synthesis/{created.json()['id']}").json()
    assert job["status"] == "completed"
    waited, _, rest = job["status_note"].partition(" model to load. ")
    assert waited.startswith("Waited ") and rest == queued_note  # one wait note, the reading note kept


def test_a_job_on_a_loaded_model_has_no_note(clock, worker, owner_api):
    created = owner_api.post("/api/v1/synthesis", {"text": "Hello.", "voice": "joe", "language": "en"}, format="json")
    worker.run_once()
    job = owner_api.get(f"/api/v1/synthesis/{created.json()['id']}").json()
    assert (job["status"], job["status_note"]) == ("completed", "")


def test_the_health_page_says_unloaded_and_when_the_model_was_last_loaded(clock, worker, owner_api):
    health = owner_api.get("/api/v1/health").json()
    piper = next(engine for engine in health["engines"] if engine["name"] == "piper")
    assert piper["loaded"] is True and piper["loaded_at"] is not None and piper["unloaded_at"] is None
    assert piper["idle_unload_seconds"] == IDLE_FOR
    loaded_at = piper["loaded_at"]

    clock.advance(IDLE_FOR)
    worker.run_once()
    health = owner_api.get("/api/v1/health").json()
    piper = next(engine for engine in health["engines"] if engine["name"] == "piper")
    assert piper["loaded"] is False
    assert piper["loaded_at"] == loaded_at and piper["unloaded_at"] is not None
    reported = piper["workers"][0]  # what the live worker says of itself
    assert (reported["loaded"], reported["loaded_at"]) == (False, loaded_at)
    assert health["workers"]["alive"] == 1


def test_the_metrics_say_unloaded_and_keep_the_last_load_time(clock, worker, owner_api):
    scraped = scrape(owner_api)
    assert value(scraped, "tts_model_loaded", engine="piper") == 1
    last_load = value(scraped, "tts_model_last_load_timestamp_seconds", engine="piper")
    assert last_load == pytest.approx(get_registry().engine("piper").loaded_at)

    clock.advance(IDLE_FOR)
    worker.run_once()
    scraped = scrape(owner_api)
    assert value(scraped, "tts_model_loaded", engine="piper") == 0
    assert value(scraped, "tts_model_last_load_timestamp_seconds", engine="piper") == last_load


# ----------------------------------------------------------------- claiming


def _stream(owner) -> SynthesisJob:  # type: ignore[no-untyped-def]
    """A stream relayed to separate workers, as job_create queues it."""
    return SynthesisJob.objects.create(
        owner=owner,
        voice=Voice.objects.get(engine="piper", builtin_key="joe"),
        voice_name="joe",
        engine="piper",
        language="en",
        text="Is anyone there?",
        params={},
        mode=SynthesisJob.Mode.STREAM,
        priority=SynthesisJob.Priority.INTERACTIVE,
        stream_channel="nobody-listens-in-this-test",
    )


def _live_worker_with(worker_id: str, *, loaded: bool) -> None:
    """Another worker's heartbeat, as it writes it: Piper loaded or unloaded."""
    now = timezone.now()
    WorkerHeartbeat.objects.create(
        worker_id=worker_id,
        hostname="gpu-box",
        pid=1,
        started_at=now,
        last_seen=now,
        engines=[{"name": "piper", "available": True, "loaded": loaded, "load_seconds": None, "device": "cpu"}],
    )


def _asks(worker_id: str, *, loaded: frozenset[str]):  # type: ignore[no-untyped-def]
    return job_claim_for_worker(worker_id=worker_id, slots=WorkerSlots(size=8, loaded=loaded))


def test_a_worker_that_unloaded_its_model_leaves_a_new_stream_to_one_that_has_it_loaded(owner, settings):
    settings.WORKER_CLAIM_DEFER_SECONDS = 1.0
    _live_worker_with("warm", loaded=True)
    _live_worker_with("cold", loaded=False)
    stream = _stream(owner)

    answer = _asks("cold", loaded=frozenset())
    assert answer.job is None  # both hold nothing: the one with the model loaded goes first
    assert answer.wake == ("warm",)
    assert answer.retry_at == stream.queued_at + timedelta(seconds=1.0)
    assert _asks("warm", loaded=frozenset({"piper"})).job == stream


def test_the_cold_worker_claims_the_stream_once_the_defer_time_is_over(owner, settings):
    settings.WORKER_CLAIM_DEFER_SECONDS = 1.0
    _live_worker_with("warm", loaded=True)
    stream = _stream(owner)
    SynthesisJob.objects.filter(pk=stream.pk).update(queued_at=stream.queued_at - timedelta(seconds=1.5))
    assert _asks("cold", loaded=frozenset()).job == stream  # nobody strands it


def test_with_no_live_worker_that_has_it_loaded_the_cold_worker_claims_at_once(owner):
    _live_worker_with("also-cold", loaded=False)
    stream = _stream(owner)
    assert _asks("cold", loaded=frozenset()).job == stream


def test_a_worker_with_its_model_loaded_claims_at_once_beside_a_cold_one(owner):
    _live_worker_with("cold", loaded=False)
    stream = _stream(owner)
    assert _asks("warm", loaded=frozenset({"piper"})).job == stream
