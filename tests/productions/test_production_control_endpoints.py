"""Pause, resume, cancel: POST /api/v1/productions/{id}/pause|resume|cancel."""

from __future__ import annotations

import pytest

from engine_host.worker import EngineWorker
from productions.models import ProductionSegment
from synthesis.models import SynthesisJob, UsageRecord
from tests.productions.conftest import production

pytestmark = [pytest.mark.usefixtures("piper_only")]


def _jobs(production_id: str):  # type: ignore[no-untyped-def]
    return SynthesisJob.objects.filter(
        pk__in=ProductionSegment.objects.filter(production_id=production_id).values("job_id")
    )


def test_pause_withdraws_the_queued_segments_and_resume_queues_them_again_to_the_end(
    owner_api, post_production, run_worker
):
    body = post_production().json()
    EngineWorker(worker_id="one-step", max_active=1).run_once()  # one segment spoken
    paused = owner_api.post(f"/api/v1/productions/{body['id']}/pause")
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert paused.json()["segments_done"] == 1
    assert not _jobs(body["id"]).filter(status="queued").exists()
    run_worker()  # nothing left to claim
    assert production(body["id"]).status == "paused" and paused.json()["segments_done"] == 1
    resumed = owner_api.post(f"/api/v1/productions/{body['id']}/resume")
    assert resumed.status_code == 200 and resumed.json()["status"] == "running"
    run_worker()
    done = owner_api.get(f"/api/v1/productions/{body['id']}").json()
    assert done["status"] == "completed" and done["segments_done"] == done["segments_total"]
    spoken = SynthesisJob.objects.filter(mode="segment", status="completed")
    assert spoken.count() == done["segments_total"]  # the one spoken before the pause was not redone


def test_cancel_stops_every_segment_and_refunds_what_was_not_spoken(owner_api, post_production, run_worker):
    body = post_production().json()
    EngineWorker(worker_id="one-step", max_active=1).run_once()
    cancelled = owner_api.post(f"/api/v1/productions/{body['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert not _jobs(body["id"]).filter(status__in=SynthesisJob.ACTIVE).exists()
    spoken = ProductionSegment.objects.get(production_id=body["id"], job__status="completed")
    assert UsageRecord.objects.get(job_id=body["id"]).characters == spoken.character_count < body["character_count"]
    run_worker()
    assert production(body["id"]).status == "cancelled"


def test_control_in_the_wrong_state_is_a_409_saying_why(owner_api, post_production, transactional_db):
    body = post_production().json()
    resume = owner_api.post(f"/api/v1/productions/{body['id']}/resume")
    assert resume.status_code == 409 and "running" in resume.json()["error"]["message"]
    owner_api.post(f"/api/v1/productions/{body['id']}/cancel")
    for action in ("pause", "cancel", "resume"):
        response = owner_api.post(f"/api/v1/productions/{body['id']}/{action}")
        assert response.status_code == 409 and response.json()["error"]["code"] == "conflict", action


def test_resume_with_a_deleted_voice_is_a_409_that_leaves_the_production_paused(
    owner_api, post_production, transactional_db
):
    body = post_production().json()
    owner_api.post(f"/api/v1/productions/{body['id']}/pause")
    ProductionSegment.objects.filter(production_id=body["id"], index=2).update(
        voice=None
    )  # as its voice's deletion does
    resumed = owner_api.post(f"/api/v1/productions/{body['id']}/resume")
    assert resumed.status_code == 409 and resumed.json()["error"]["details"] == {"segment": 2}
    assert production(body["id"]).status == "paused"
    assert not _jobs(body["id"]).filter(status="queued").exists()
