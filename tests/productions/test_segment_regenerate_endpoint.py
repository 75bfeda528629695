"""POST /api/v1/productions/{id}/segments/{n}/regenerate: one segment spoken again (a new
seed or edited text), the production assembled again, the rest untouched."""

from __future__ import annotations

import pytest
import soundfile

from core import media
from productions.models import ProductionSegment
from synthesis.models import SynthesisJob, UsageRecord
from tests.productions.conftest import production

pytestmark = [pytest.mark.usefixtures("piper_only")]


def _audio(production_id: str) -> dict[int, tuple[str, str]]:
    return {
        s.index: (str(s.job_id), s.job.audio_file)
        for s in ProductionSegment.objects.filter(production_id=production_id).select_related("job")
    }


def test_edited_text_changes_that_segment_only_and_the_whole_is_assembled_again(owner_api, post_production, run_worker):
    body = post_production().json()
    run_worker()
    before = _audio(body["id"])
    whole_before = production(body["id"]).audio_file
    billed_before = UsageRecord.objects.get(job_id=body["id"]).characters
    response = owner_api.post(
        f"/api/v1/productions/{body['id']}/segments/2/regenerate",
        {"text": "A completely different sentence."},
        format="json",
    )
    assert response.status_code == 202, response.json()
    assert response.json()["revision"] == 2 and response.json()["status"] == "queued"
    assert production(body["id"]).status == "running"
    run_worker()
    after = _audio(body["id"])
    assert {n for n in before if before[n] != after[n]} == {2}
    assert not media.absolute(before[2][1]).exists() and not SynthesisJob.objects.filter(pk=before[2][0]).exists()
    done = production(body["id"])
    assert done.status == "completed" and done.audio_file != whole_before
    assert not media.absolute(whole_before).exists()
    assert soundfile.info(str(media.absolute(done.audio_file))).duration == pytest.approx(done.audio_duration, abs=0.01)
    assert UsageRecord.objects.get(job_id=body["id"]).characters == billed_before + len(
        "A completely different sentence."
    )
    assert ProductionSegment.objects.get(production_id=body["id"], index=2).text == "A completely different sentence."


def test_no_text_means_a_new_seed_for_the_same_text(owner_api, post_production, run_worker):
    body = post_production().json()
    run_worker()
    text = ProductionSegment.objects.get(production_id=body["id"], index=1).text
    response = owner_api.post(f"/api/v1/productions/{body['id']}/segments/1/regenerate", {}, format="json")
    assert response.status_code == 202
    segment = ProductionSegment.objects.get(production_id=body["id"], index=1)
    assert segment.text == text and segment.seed is not None and segment.job.params["seed"] == segment.seed


def test_bad_regeneration_requests_are_clear_4xx(owner_api, post_production, outsider_api, transactional_db):
    body = post_production().json()
    base = f"/api/v1/productions/{body['id']}/segments"
    assert owner_api.post(f"{base}/99/regenerate", {}, format="json").status_code == 404
    empty = owner_api.post(f"{base}/1/regenerate", {"text": "(happy) ..."}, format="json")
    assert empty.status_code == 400 and "nothing to speak" in empty.json()["error"]["message"]
    assert owner_api.post(f"{base}/1/regenerate", {"seed": -1}, format="json").status_code == 400
    assert outsider_api.post(f"{base}/1/regenerate", {}, format="json").status_code == 404
    owner_api.post(f"/api/v1/productions/{body['id']}/cancel")
    assert owner_api.post(f"{base}/1/regenerate", {}, format="json").status_code == 409


def test_a_paused_production_keeps_the_new_text_and_resume_queues_it(owner_api, post_production, transactional_db):
    body = post_production().json()
    owner_api.post(f"/api/v1/productions/{body['id']}/pause")
    response = owner_api.post(
        f"/api/v1/productions/{body['id']}/segments/1/regenerate", {"text": "Edited while paused."}, format="json"
    )
    assert response.status_code == 202 and response.json()["status"] == "pending"
    assert production(body["id"]).status == "paused"
    owner_api.post(f"/api/v1/productions/{body['id']}/resume")
    segment = ProductionSegment.objects.select_related("job").get(production_id=body["id"], index=1)
    assert segment.job.status == "queued" and segment.job.text == "Edited while paused."
