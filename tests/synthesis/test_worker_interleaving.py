"""A worker holds up to WORKER_MAX_ACTIVE jobs at once and interleaves their segments on
its one model (docs/ARCHITECTURE.md, "Fair scheduling"); queued and bulk jobs leave
slots for streams."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from django.conf import settings as django_settings

from engine_host.worker import EngineWorker
from synthesis.models import SynthesisJob
from synthesis.queue import job_claim_next
from tests.synthesis.conftest import job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("piper_only")]

SEVERAL_SENTENCES = "One sentence here. Another one there. A third follows. And a fourth. Then the last."


def _samples(job_id: str) -> np.ndarray:
    done = job(job_id)
    assert done.status == "completed", done.error_message
    data, _ = sf.read(io.BytesIO((django_settings.MEDIA_ROOT / done.audio_file).read_bytes()), dtype="int16")
    return data


def test_a_worker_generates_several_jobs_at_once_with_the_audio_each_gets_alone(post_job):
    params = {"variability": 0}
    alone_ids = []
    for text in (SEVERAL_SENTENCES, "Short. But two."):
        alone_ids.append(post_job(text, params=params).json()["id"])
        EngineWorker(worker_id="one-at-a-time", heartbeats=False, max_active=1).run_once()

    together_ids = [
        post_job(SEVERAL_SENTENCES, params=params).json()["id"],
        post_job("Short. But two.", params=params).json()["id"],
    ]
    worker = EngineWorker(worker_id="interleaving", heartbeats=False, max_active=4)  # two for jobs
    assert worker.run_once()

    first, second = job(together_ids[0]), job(together_ids[1])
    assert (first.status, second.status) == ("completed", "completed"), (first.error_message, second.error_message)
    # Both were being generated at the same time...
    assert first.started_at < second.finished_at and second.started_at < first.finished_at
    # ...and each sounds exactly as it does alone.
    assert np.array_equal(_samples(together_ids[0]), _samples(alone_ids[0]))
    assert np.array_equal(_samples(together_ids[1]), _samples(alone_ids[1]))
    assert worker.jobs_done == 2 and worker.active_jobs == []


def test_queued_jobs_take_at_most_half_the_slots_so_a_stream_is_claimed_at_once(post_job, owner):
    for n in range(3):
        post_job(f"Queued job number {n}. " * 6)
    stream = SynthesisJob.objects.create(
        owner=owner,
        voice_name="joe",
        engine="piper",
        language="en",
        text="A listener is waiting.",
        mode=SynthesisJob.Mode.STREAM,
        priority=SynthesisJob.Priority.INTERACTIVE,
        stream_channel="nobody-listens-in-this-test",
    )
    SynthesisJob.objects.filter(pk=stream.pk).update(voice=SynthesisJob.objects.exclude(pk=stream.pk).first().voice)
    worker = EngineWorker(worker_id="busy", heartbeats=False, max_active=4)
    try:
        worker.run_once(wait=False)
        running = {j.pk: j.priority for j in worker.active_jobs}
        assert stream.pk in running  # the stream got a slot
        assert sum(1 for p in running.values() if p != SynthesisJob.Priority.INTERACTIVE) == 2  # half of four
        assert SynthesisJob.objects.queued().count() == 1
    finally:
        worker.join_active(timeout=120)
    assert worker.active_jobs == []


def test_the_queue_claims_the_most_urgent_class_first_then_the_oldest(owner, post_job):
    older_job = post_job("Queued first.").json()["id"]
    SynthesisJob.objects.filter(pk=older_job).update(priority=SynthesisJob.Priority.BULK)
    newer_job = post_job("Queued second.").json()["id"]
    assert str(job_claim_next(worker_id="w").pk) == newer_job  # a job ahead of older bulk work
    assert job_claim_next(worker_id="w", max_priority=SynthesisJob.Priority.JOB) is None  # bulk is excluded
    assert str(job_claim_next(worker_id="w").pk) == older_job


def test_a_job_waiting_for_its_turn_keeps_its_lease(post_job):
    job_id = post_job("Waiting in line.").json()["id"]
    worker = EngineWorker(worker_id="renewer", heartbeats=False, max_active=1)
    claimed = job_claim_next(worker_id="renewer")
    assert claimed is not None and str(claimed.pk) == job_id
    before = job(job_id).lease_expires_at
    worker._active[claimed.pk] = (claimed, None)  # held, but not generating yet (in line for a turn)
    try:
        worker.renew_active_leases()
    finally:
        worker._active.clear()
    assert job(job_id).lease_expires_at > before
