"""What a production bills: every spoken revision stays billed, whatever happens to it
later; a cancellation refunds only what was never spoken (issue: regenerating every
segment as "Hi." and cancelling took the usage down to the last three characters)."""

from __future__ import annotations

import pytest

from engine_host.worker import EngineWorker
from productions.models import ProductionSegment
from synthesis.models import SynthesisJob, UsageRecord
from tests.productions.conftest import production

pytestmark = [pytest.mark.usefixtures("piper_only")]


def _one_at_a_time() -> EngineWorker:
    # One segment at a time: this is about billing, and worker threads sharing the
    # in-memory SQLite test database can meet its table locks.
    return EngineWorker(worker_id="billing", max_active=1)


def _billed(production_id: str) -> int:
    return UsageRecord.objects.get(job_id=production_id).characters


def _download(owner_api, production_id: str) -> None:  # type: ignore[no-untyped-def]
    response = owner_api.get(f"/api/v1/productions/{production_id}/audio?format=wav")
    assert response.status_code == 200
    assert len(b"".join(response.streaming_content)) > 1000


def _regenerate(owner_api, production_id: str, index: int) -> None:  # type: ignore[no-untyped-def]
    response = owner_api.post(
        f"/api/v1/productions/{production_id}/segments/{index}/regenerate", {"text": "Hi."}, format="json"
    )
    assert response.status_code == 202, response.json()


def test_regenerating_every_segment_and_cancelling_keeps_every_spoken_character_billed(
    owner_api, post_production, run_worker
):
    body = post_production().json()
    pid, total = body["id"], body["character_count"]
    indexes = list(
        ProductionSegment.objects.filter(production_id=pid).order_by("index").values_list("index", flat=True)
    )
    run_worker(_one_at_a_time())
    assert production(pid).status == "completed"
    _download(owner_api, pid)
    assert _billed(pid) == total
    spoken = total
    for _ in range(2):  # two rounds: every segment spoken again as "Hi.", downloaded
        for index in indexes:
            _regenerate(owner_api, pid, index)
        run_worker(_one_at_a_time())
        assert production(pid).status == "completed"
        _download(owner_api, pid)
        spoken += len("Hi.") * len(indexes)
        assert _billed(pid) == spoken
    # The last round: one regenerated, paused, every other regenerated, cancelled;
    # none of these revisions is ever spoken.
    _regenerate(owner_api, pid, indexes[0])
    assert owner_api.post(f"/api/v1/productions/{pid}/pause").status_code == 200
    for index in indexes[1:]:
        _regenerate(owner_api, pid, index)
    assert _billed(pid) == spoken + len("Hi.") * len(indexes)  # asked for: billed until refunded
    cancelled = owner_api.post(f"/api/v1/productions/{pid}/cancel")
    assert cancelled.status_code == 200, cancelled.json()
    assert _billed(pid) == spoken == total + 2 * len("Hi.") * len(indexes)


def test_a_revision_replaced_before_it_was_spoken_is_refunded(owner_api, post_production, run_worker):
    body = post_production().json()
    pid, total = body["id"], body["character_count"]
    first = ProductionSegment.objects.get(production_id=pid, index=1)
    _regenerate(owner_api, pid, 1)  # the first revision was still queued: never spoken
    assert _billed(pid) == total - first.character_count + len("Hi.")
    run_worker(_one_at_a_time())
    assert production(pid).status == "completed" and _billed(pid) == production(pid).character_count


def test_cancel_refunds_only_the_segments_not_spoken(owner_api, post_production, run_worker):
    body = post_production().json()
    EngineWorker(worker_id="one-step", max_active=1).run_once()
    owner_api.post(f"/api/v1/productions/{body['id']}/cancel")
    spoken = ProductionSegment.objects.get(production_id=body["id"], job__status="completed").character_count
    assert _billed(body["id"]) == spoken < body["character_count"]


def test_deleting_an_unfinished_production_refunds_what_was_not_spoken_and_keeps_the_record(
    owner_api, post_production, transactional_db
):
    body = post_production().json()
    job_ids = list(ProductionSegment.objects.filter(production_id=body["id"]).values_list("job_id", flat=True))
    assert owner_api.delete(f"/api/v1/productions/{body['id']}").status_code == 204
    assert not SynthesisJob.objects.filter(pk__in=job_ids).exists()
    assert not ProductionSegment.objects.filter(production_id=body["id"]).exists()
    assert _billed(body["id"]) == 0
