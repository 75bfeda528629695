"""Real `runengine` processes against one PostgreSQL database: a killed worker loses no
job, and several workers never run a job twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from accounts.models import User
from synthesis.models import SynthesisJob, UsageRecord
from synthesis.services import JobRequest, job_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("piper_only")]
ROOT = Path(__file__).resolve().parents[2]
LONG_TEXT = " ".join(f"Sentence {n} of a long job that takes a while to speak." for n in range(1, 30))


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def start_worker(worker_id: str, tmp_path: Path, **env: str) -> subprocess.Popen:
    environment = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "TTS_ENGINES": "piper",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "AUDIT_LOG_FILE": str(tmp_path / "audit.log"),
        "WORKER_SWEEP_SECONDS": "0.3",
        "EMBEDDED_WORKER": "false",
        **env,
    }
    log = open(tmp_path / f"{worker_id}.log", "ab")
    return subprocess.Popen(
        [sys.executable, "manage.py", "runengine", "--worker-id", worker_id],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_for(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def test_a_job_survives_its_worker_being_killed_and_completes_exactly_once(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    owner = User.objects.create_user("kim")
    job, _ = job_create(user=owner, req=JobRequest(text=LONG_TEXT, voice="joe"))
    doomed = start_worker("doomed", tmp_path, WORKER_LEASE_SECONDS="3")
    try:
        wait_for(lambda: SynthesisJob.objects.get(pk=job.pk).progress > 0, 120, "the first worker to make progress")
        doomed.kill()  # SIGKILL: no chance to release the job
        doomed.wait(timeout=10)
        assert SynthesisJob.objects.get(pk=job.pk).status == "running"
        rescuer = start_worker("rescuer", tmp_path, WORKER_LEASE_SECONDS="3")
        wait_for(
            lambda: SynthesisJob.objects.get(pk=job.pk).status == "completed", 180, "the rescuer to finish the job"
        )
    finally:
        stop(doomed, *(p for p in [locals().get("rescuer")] if p is not None))
    done = SynthesisJob.objects.get(pk=job.pk)
    assert done.attempts == 2 and done.completed_by == "rescuer"
    assert UsageRecord.objects.filter(job_id=job.pk).count() == 1
    assert (settings.MEDIA_ROOT / done.audio_file).exists()


def test_two_workers_share_thirty_jobs_and_run_each_once(tmp_path, settings):
    owner = User.objects.create_user("lee", monthly_character_quota=10**6, max_active_jobs=100)
    jobs = [job_create(user=owner, req=JobRequest(text=f"Job number {n}.", voice="joe"))[0] for n in range(30)]
    workers = [start_worker("alpha", tmp_path), start_worker("beta", tmp_path)]
    try:
        wait_for(
            lambda: SynthesisJob.objects.filter(pk__in=[j.pk for j in jobs], status="completed").count() == 30,
            240,
            "all 30 jobs",
        )
    finally:
        stop(*workers)
    finished = SynthesisJob.objects.filter(pk__in=[j.pk for j in jobs])
    assert set(finished.values_list("attempts", flat=True)) == {1}
    assert set(finished.values_list("completed_by", flat=True)) == {"alpha", "beta"}
    assert UsageRecord.objects.filter(job_id__in=[j.pk for j in jobs]).count() == 30


def test_sigterm_releases_the_current_job_and_exits_cleanly(tmp_path, settings):
    owner = User.objects.create_user("max")
    job, _ = job_create(user=owner, req=JobRequest(text=LONG_TEXT, voice="joe"))
    worker = start_worker("polite", tmp_path)
    try:
        wait_for(lambda: SynthesisJob.objects.get(pk=job.pk).progress > 0, 120, "progress")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0
    finally:
        stop(worker)
    released = SynthesisJob.objects.get(pk=job.pk)
    assert released.status == "queued" and released.attempts == 0 and released.lease_owner == ""
