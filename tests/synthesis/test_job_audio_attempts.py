"""Each attempt at a job writes its own audio file: a worker that lost its lease can
never overwrite or delete the audio of the attempt that took the job over."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from engine_host.worker import EngineWorker
from synthesis.models import SynthesisJob
from tests.synthesis.conftest import job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("piper_only")]


def _wav_files(settings, owner) -> list[str]:  # type: ignore[no-untyped-def]
    folder = settings.MEDIA_ROOT / "jobs" / str(owner.pk)
    return sorted(p.name for p in folder.glob("*.wav")) if folder.exists() else []


def test_a_stale_worker_never_deletes_the_audio_of_the_attempt_that_took_over(post_job, owner, owner_api, settings):
    job_id = post_job("A stale worker must not delete this. It lost its lease.").json()["id"]
    stale = EngineWorker(worker_id="stale", heartbeats=False)
    rescuer = EngineWorker(worker_id="rescuer", heartbeats=False)
    store_for_real = stale._store_audio
    seen_while_paused: dict[str, object] = {}

    def paused_after_its_last_lease_renewal(claimed: SynthesisJob, pcm: np.ndarray, sample_rate: int) -> str:
        # The stale worker has generated everything and renewed its lease for the last
        # time. While it is paused here its lease runs out, and the rescuer requeues the
        # job, claims it and completes it.
        SynthesisJob.objects.filter(pk=claimed.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
        assert rescuer.run_once()
        rescued = job(job_id)
        seen_while_paused.update(status=rescued.status, audio_file=rescued.audio_file)
        return store_for_real(claimed, pcm, sample_rate)  # then the stale worker resumes

    stale._store_audio = paused_after_its_last_lease_renewal  # type: ignore[method-assign]
    assert stale.run_once()

    done = job(job_id)
    assert seen_while_paused["status"] == "completed"
    assert done.status == "completed" and done.completed_by == "rescuer" and done.attempts == 2
    assert done.audio_file == seen_while_paused["audio_file"]
    assert (settings.MEDIA_ROOT / done.audio_file).exists()
    assert _wav_files(settings, owner) == [done.audio_file.rsplit("/", 1)[1]]  # the stale file is gone, only it
    download = owner_api.get(f"/api/v1/synthesis/{job_id}/audio")
    assert download.status_code == 200 and b"".join(download.streaming_content)[:4] == b"RIFF"


def test_the_file_name_names_the_job_and_the_attempt(post_job, owner, settings, run_worker):
    first_id = post_job("First job.").json()["id"]
    second_id = post_job("First job.").json()["id"]
    run_worker()
    first, second = job(first_id), job(second_id)
    assert first.audio_file != second.audio_file
    assert str(first.pk) in first.audio_file and f"-a{first.attempts}-" in first.audio_file
    assert len(_wav_files(settings, owner)) == 2


def test_a_cancelled_job_leaves_no_file_behind(post_job, owner, settings):
    job_id = post_job("Cancelled while it was being stored.").json()["id"]
    worker = EngineWorker(worker_id="w1", heartbeats=False)
    store_for_real = worker._store_audio

    def cancelled_meanwhile(claimed: SynthesisJob, pcm: np.ndarray, sample_rate: int) -> str:
        SynthesisJob.objects.filter(pk=claimed.pk).update(status="cancelled", lease_owner="")
        return store_for_real(claimed, pcm, sample_rate)

    worker._store_audio = cancelled_meanwhile  # type: ignore[method-assign]
    worker.run_once()
    assert job(job_id).status == "cancelled" and job(job_id).audio_file == ""
    assert _wav_files(settings, owner) == []
