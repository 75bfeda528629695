"""worker_heartbeats_prune: the rows of workers that died (and so never removed their
own heartbeat) are deleted by the living, after WORKER_HEARTBEAT_PRUNE_SECONDS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from engine_host.worker import EngineWorker
from synthesis.models import SynthesisJob, WorkerHeartbeat
from synthesis.queue import job_claim_next, worker_heartbeats_prune

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]


def _heartbeat(worker_id: str, *, seconds_ago: float) -> WorkerHeartbeat:
    seen = timezone.now() - timedelta(seconds=seconds_ago)
    return WorkerHeartbeat.objects.create(worker_id=worker_id, hostname="h", pid=1, started_at=seen, last_seen=seen)


def _ids() -> set[str]:
    return set(WorkerHeartbeat.objects.values_list("worker_id", flat=True))


def test_it_deletes_workers_silent_for_longer_than_the_prune_age(settings):
    settings.WORKER_HEARTBEAT_PRUNE_SECONDS = 3600
    _heartbeat("dead-yesterday", seconds_ago=86400)
    _heartbeat("dead-an-hour-ago", seconds_ago=3700)
    _heartbeat("stale-for-now", seconds_ago=600)  # still shown as stale on the health page
    _heartbeat("alive", seconds_ago=1)
    assert worker_heartbeats_prune() == 2
    assert _ids() == {"stale-for-now", "alive"}


def test_it_keeps_a_silent_worker_that_still_renews_a_lease(post_job, settings):
    settings.WORKER_HEARTBEAT_PRUNE_SECONDS = 60
    post_job("A long generation.")
    _heartbeat("busy", seconds_ago=120)
    claimed = job_claim_next(worker_id="busy")
    assert claimed.lease_expires_at > timezone.now()
    assert worker_heartbeats_prune() == 0
    SynthesisJob.objects.filter(pk=claimed.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert worker_heartbeats_prune() == 1 and _ids() == set()


@pytest.mark.django_db(transaction=True)
def test_a_running_worker_prunes_dead_workers_in_its_sweep(settings):
    settings.WORKER_HEARTBEAT_PRUNE_SECONDS = 60
    _heartbeat("killed-long-ago", seconds_ago=7200)
    worker = EngineWorker(worker_id="living")
    worker.run_once()
    assert _ids() == {"living"}
