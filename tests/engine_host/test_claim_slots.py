"""An engine worker's slots, as the queue reads them (synthesis.queue.job_claim_for_worker;
docs/ARCHITECTURE.md, "Fair scheduling"): queued and bulk jobs take at most half of a
worker's slots, so a stream finds a free one in a busy worker; a full worker gets nothing."""

from __future__ import annotations

import pytest

from synthesis.models import SynthesisJob
from synthesis.queue import WorkerSlots, job_claim_for_worker
from voices.models import Voice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]

STREAM, JOB, BULK = SynthesisJob.Priority.INTERACTIVE, SynthesisJob.Priority.JOB, SynthesisJob.Priority.BULK


def _queued(owner, priority: int) -> SynthesisJob:  # type: ignore[no-untyped-def]
    mode = {STREAM: SynthesisJob.Mode.STREAM, JOB: SynthesisJob.Mode.JOB, BULK: SynthesisJob.Mode.SEGMENT}[priority]
    return SynthesisJob.objects.create(
        owner=owner,
        voice=Voice.objects.get(engine="piper", builtin_key="joe"),
        voice_name="joe",
        engine="piper",
        language="en",
        text="Some words to speak.",
        mode=mode,
        priority=priority,
        stream_channel="nobody-listens-in-this-test" if priority == STREAM else "",
    )


def _asks(slots: WorkerSlots) -> SynthesisJob | None:
    return job_claim_for_worker(worker_id="worker", slots=slots).job


def test_queued_and_bulk_jobs_take_at_most_half_the_slots(owner):
    queued = _queued(owner, JOB)
    assert _asks(WorkerSlots(size=4, held=(JOB, BULK))) is None  # half the slots hold background work
    assert _asks(WorkerSlots(size=4, held=(BULK, STREAM, STREAM))) == queued  # one of two background slots
    assert SynthesisJob.objects.get(pk=queued.pk).lease_owner == "worker"


def test_a_stream_takes_any_free_slot_of_a_busy_worker(owner):
    _queued(owner, BULK)
    stream = _queued(owner, STREAM)
    assert _asks(WorkerSlots(size=4, held=(JOB, BULK))) == stream  # before the older bulk job
    assert _asks(WorkerSlots(size=4, held=(JOB, BULK, STREAM))) is None  # the bulk job waits


def test_a_full_worker_gets_no_job(owner):
    stream = _queued(owner, STREAM)
    assert _asks(WorkerSlots(size=2, held=(STREAM, STREAM))) is None
    assert SynthesisJob.objects.get(pk=stream.pk).status == "queued"


@pytest.mark.parametrize("priority", [STREAM, JOB, BULK])
def test_a_worker_of_one_slot_takes_any_class_when_it_is_free(owner, priority):
    job = _queued(owner, priority)
    assert _asks(WorkerSlots(size=1)) == job
