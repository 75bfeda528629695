"""A production spread over real `runengine` worker processes on PostgreSQL (+ Redis when
REDIS_URL is set, as .ci/run does): both workers take segments, and a worker killed with
SIGKILL mid-production loses only its segment, which the other redoes; every segment is
spoken exactly once into the assembled whole."""

from __future__ import annotations

import pytest

from accounts.models import User
from productions.models import Production, ProductionSegment
from productions.services import ProductionRequest, production_create
from synthesis.models import SynthesisJob, UsageRecord
from tests.synthesis.test_worker_processes_postgres import start_worker, stop, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("piper_only")]

PARAGRAPH = (
    "The river ran slowly past the old mill, and the miller watched it from his door. "
    "Every morning he counted the boats that went down to the town. "
    "Some carried grain, some carried wool, and one carried a painted piano. "
    "He never learned who played it, but he liked to think of the music. "
)
TEXT = "# Part one\n" + PARAGRAPH * 6 + "\n# Part two\n" + PARAGRAPH * 6


def _create(name: str) -> Production:
    owner = User.objects.create_user(name, monthly_character_quota=10**6)
    return production_create(user=owner, req=ProductionRequest(text=TEXT, voice="joe", title="Mill"))


def _segment_jobs(production: Production):  # type: ignore[no-untyped-def]
    return SynthesisJob.objects.filter(pk__in=ProductionSegment.objects.filter(production=production).values("job_id"))


def _assert_each_segment_once(production: Production) -> None:
    production.refresh_from_db()
    assert production.status == "completed", production.error_message
    total = production.segments_total
    assert [s["index"] for s in production.assembly["segments"]] == list(range(1, total + 1))
    jobs = _segment_jobs(production)
    assert jobs.filter(status="completed").count() == total
    assert SynthesisJob.objects.filter(mode="segment", status="completed").count() == total
    assert UsageRecord.objects.filter(user=production.owner).count() == 1  # the production, billed once


def test_two_workers_share_one_productions_segments(tmp_path, settings):
    production = _create("ann")
    assert production.segments_total >= 6
    workers = [start_worker(name, tmp_path, WORKER_MAX_ACTIVE="2") for name in ("alpha", "beta")]
    try:
        wait_for(
            lambda: Production.objects.get(pk=production.pk).status in ("completed", "failed"), 300, "the production"
        )
    finally:
        stop(*workers)
    _assert_each_segment_once(production)
    jobs = _segment_jobs(production)
    assert set(jobs.values_list("completed_by", flat=True)) == {"alpha", "beta"}
    assert set(jobs.values_list("attempts", flat=True)) == {1}


def test_a_worker_killed_mid_production_loses_only_its_segment(tmp_path, settings):
    production = _create("bo")
    doomed = start_worker("doomed", tmp_path, WORKER_LEASE_SECONDS="3", WORKER_MAX_ACTIVE="2")
    steady = None
    try:
        wait_for(
            lambda: (
                _segment_jobs(production).filter(status="completed").exists()
                and _segment_jobs(production).filter(status="running", lease_owner="doomed", progress__gt=0).exists()
            ),
            240,
            "the first worker to finish one segment and be inside another",
        )
        doomed.kill()  # SIGKILL: no chance to release its segment
        doomed.wait(timeout=10)
        lost = list(
            _segment_jobs(production).filter(status="running", lease_owner="doomed").values_list("pk", flat=True)
        )
        assert lost
        steady = start_worker("steady", tmp_path, WORKER_LEASE_SECONDS="3", WORKER_MAX_ACTIVE="2")
        wait_for(
            lambda: Production.objects.get(pk=production.pk).status in ("completed", "failed"), 300, "the production"
        )
    finally:
        stop(doomed, *([steady] if steady else []))
    _assert_each_segment_once(production)
    for job in SynthesisJob.objects.filter(pk__in=lost):
        assert job.status == "completed" and job.attempts == 2 and job.completed_by == "steady"
    assert set(_segment_jobs(production).values_list("completed_by", flat=True)) == {"doomed", "steady"}
