"""Claiming, leasing, completing: the database is the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from synthesis.models import SynthesisJob, UsageRecord
from synthesis.queue import job_claim_next, job_complete, job_release, job_renew_lease, job_requeue_expired
from tests.synthesis.conftest import job

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]


def test_a_claim_takes_the_oldest_queued_job_with_a_lease(post_job):
    first = post_job("First.").json()["id"]
    post_job("Second.")
    claimed = job_claim_next(worker_id="w1")
    assert str(claimed.pk) == first
    assert claimed.status == "running" and claimed.lease_owner == "w1" and claimed.attempts == 1
    assert claimed.lease_expires_at > timezone.now()


def test_a_claimed_job_is_not_claimed_again(post_job):
    post_job("Only one.")
    assert job_claim_next(worker_id="w1") is not None
    assert job_claim_next(worker_id="w2") is None


def test_only_the_lease_holder_can_complete(post_job):
    post_job("Only one.")
    claimed = job_claim_next(worker_id="w1")
    kwargs = dict(
        audio_file="x.wav", audio_duration=1.0, sample_rate=22050, time_to_first_audio=0.1, synthesis_seconds=0.2
    )
    assert job_complete(job=claimed, worker_id="w2", **kwargs) is False
    assert job_complete(job=claimed, worker_id="w1", **kwargs) is True
    assert job_complete(job=claimed, worker_id="w1", **kwargs) is False
    assert UsageRecord.objects.filter(job_id=claimed.pk).count() == 1


def test_an_expired_lease_puts_the_job_back_with_attempts_counted(post_job):
    job_id = post_job().json()["id"]
    claimed = job_claim_next(worker_id="dead-worker")
    SynthesisJob.objects.filter(pk=claimed.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert job_requeue_expired() == 1
    assert job(job_id).status == "queued" and job(job_id).attempts == 1
    again = job_claim_next(worker_id="w2")
    assert again.attempts == 2 and again.lease_owner == "w2"
    assert job_renew_lease(job=claimed, worker_id="dead-worker") is False


def test_a_job_fails_with_the_last_error_after_max_attempts(post_job, settings):
    settings.JOB_MAX_ATTEMPTS = 2
    job_id = post_job().json()["id"]
    for worker in ("w1", "w2"):
        job_claim_next(worker_id=worker)
        SynthesisJob.objects.filter(pk=job_id).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
        job_requeue_expired()
    failed = job(job_id)
    assert failed.status == "failed" and failed.error_code == "worker_lost" and "w2" in failed.error_message


def test_a_released_job_goes_back_without_counting_an_attempt(post_job):
    job_id = post_job().json()["id"]
    claimed = job_claim_next(worker_id="w1")
    assert job_release(job=claimed, worker_id="w1") is True
    assert job(job_id).status == "queued" and job(job_id).attempts == 0


def test_the_worker_runs_a_job_to_completion_with_real_speech(post_job, run_worker, settings):
    from speech import audio

    job_id = post_job("Hello there. This is a real sentence spoken by Piper.").json()["id"]
    worker = run_worker()
    done = job(job_id)
    assert done.status == "completed" and done.progress == 1.0 and worker.jobs_done == 1
    pcm, rate = audio.decode((settings.MEDIA_ROOT / done.audio_file).read_bytes())
    assert rate == 22050 and done.audio_duration == pytest.approx(len(pcm) / rate, rel=1e-3)
    assert abs(pcm).max() > 0.05  # speech, not silence
    assert done.time_to_first_audio is not None and done.synthesis_seconds > 0
