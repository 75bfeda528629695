"""The engine worker's loop keeps its database connection from one sweep to the next
(core.db), where it used to reconnect at every sweep; a sweep that fails on a broken
connection drops it, and the next sweep opens a new one and claims what is queued."""

from __future__ import annotations

import pytest
from django.db import connection

from engine_host.worker import EngineWorker
from synthesis.models import SynthesisJob
from synthesis.services import JobRequest, job_create
from tests.loop_threads import in_a_loop_thread

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("piper_only")]


def test_the_worker_loop_keeps_one_connection_over_many_sweeps(owner):
    worker = EngineWorker(worker_id="test-sweeps")

    def sweeps_then_a_job() -> list[bool]:
        idle = [worker.sweep() for _ in range(4)]
        job_create(user=owner, req=JobRequest(text="Swept up in one sweep.", voice="joe"))
        claimed = worker.sweep()
        worker.join_active(60)
        return [*idle, claimed]

    did_work, opened = in_a_loop_thread(sweeps_then_a_job)
    assert did_work == [False, False, False, False, True]
    assert opened == 1  # the job's own thread has its own, not counted here
    assert SynthesisJob.objects.get().status == SynthesisJob.Status.COMPLETED


def test_a_sweep_on_a_broken_connection_drops_it_and_the_next_sweep_claims(owner, caplog):
    worker = EngineWorker(worker_id="test-sweeps")

    def break_the_connection_between_sweeps() -> list[bool]:
        first = worker.sweep()
        job_create(user=owner, req=JobRequest(text="Queued while the database was away.", voice="joe"))
        connection.connection.close()  # the server went away under the open connection
        failed = worker.sweep()
        claimed = worker.sweep()
        worker.join_active(60)
        return [first, failed, claimed]

    did_work, opened = in_a_loop_thread(break_the_connection_between_sweeps)
    assert did_work == [False, False, True]
    assert opened == 2
    assert "engine worker test-sweeps: sweep failed; retrying" in caplog.text
    assert SynthesisJob.objects.get().status == SynthesisJob.Status.COMPLETED
