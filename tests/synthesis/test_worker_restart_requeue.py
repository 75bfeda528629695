"""EngineWorker.requeue_abandoned, run when a worker starts: jobs that earlier runs of
itself on this host left leased go back to the queue at once; the leases of live
workers, and of other hosts, are left alone."""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from engine_host.worker import EngineWorker
from synthesis.queue import job_claim_next
from tests.synthesis.conftest import job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]


def _a_dead_pid() -> int:
    finished = subprocess.Popen(["true"])
    finished.wait()
    return finished.pid


def _leased_by(post_job, owner: str) -> str:  # type: ignore[no-untyped-def]
    job_id = post_job(f"Leased by {owner}.").json()["id"]
    assert str(job_claim_next(worker_id=owner).pk) == job_id
    return job_id


def test_a_restarted_worker_with_a_fixed_id_takes_back_its_old_jobs_at_once(post_job):
    job_id = _leased_by(post_job, "alpha")
    assert EngineWorker(worker_id="alpha").requeue_abandoned() == 1
    requeued = job(job_id)
    assert requeued.status == "queued" and requeued.lease_owner == "" and requeued.attempts == 1


def test_a_dead_process_of_this_host_has_its_jobs_requeued(post_job):
    job_id = _leased_by(post_job, f"{socket.gethostname()}:{_a_dead_pid()}:abc123")
    assert EngineWorker().requeue_abandoned() == 1
    assert job(job_id).status == "queued"


def test_live_workers_and_other_hosts_keep_their_leases(post_job):
    live_here = _leased_by(post_job, f"{socket.gethostname()}:{os.getppid()}:abc123")
    elsewhere = _leased_by(post_job, f"another-host:{_a_dead_pid()}:abc123")
    someone_else = _leased_by(post_job, "beta")
    assert EngineWorker(worker_id="alpha").requeue_abandoned() == 0
    assert {job(j).status for j in (live_here, elsewhere, someone_else)} == {"running"}


def test_an_abandoned_stream_fails_because_its_listener_is_gone(post_job, owner):
    from synthesis.models import SynthesisJob

    job_id = _leased_by(post_job, f"{socket.gethostname()}:{_a_dead_pid()}:stream-abc123")
    SynthesisJob.objects.filter(pk=job_id).update(mode="stream")
    EngineWorker().requeue_abandoned()
    assert job(job_id).status == "failed" and job(job_id).error_code == "worker_lost"
