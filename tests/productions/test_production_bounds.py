"""A production is bounded: segments and chapters per production (LONGFORM_MAX_SEGMENTS,
LONGFORM_MAX_CHAPTERS) are capped with a 413 naming the limit, its rows are written in
short batches, its chapters are paged, and an uploaded text meets the JSON text rule."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from productions import services
from productions.models import Chapter, Production, ProductionSegment
from productions.selectors import CHAPTERS_EMBEDDED
from synthesis.models import SynthesisJob, UsageRecord
from tests.productions.conftest import production

pytestmark = [pytest.mark.usefixtures("piper_only")]


def _nothing_written() -> bool:
    return not (Production.objects.exists() or SynthesisJob.objects.exists() or UsageRecord.objects.exists())


@pytest.mark.django_db
def test_more_segments_than_the_limit_is_a_413_naming_it_before_anything_is_written(settings, post_production):
    settings.LONGFORM_MAX_SEGMENTS = 3
    response = post_production("[voice: joe]a " * 4)
    assert response.status_code == 413, response.json()
    error = response.json()["error"]
    assert error["code"] == "payload_too_large" and "LONGFORM_MAX_SEGMENTS" in error["message"]
    assert error["details"] == {"text": ["At most 3 segments."], "limit": 3}
    assert _nothing_written()


@pytest.mark.django_db
def test_more_chapters_than_the_limit_is_a_413_naming_it(settings, post_production):
    settings.LONGFORM_MAX_CHAPTERS = 2
    response = post_production("".join(f"# Part {n}\nSome words here.\n" for n in range(3)))
    assert response.status_code == 413 and "LONGFORM_MAX_CHAPTERS" in response.json()["error"]["message"]
    assert response.json()["error"]["details"] == {"text": ["At most 2 chapters."], "limit": 2}
    assert _nothing_written()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["book.txt", "book.md"])
def test_an_uploaded_text_with_a_nul_is_refused_at_acceptance_and_not_billed(owner_api, name):
    upload = SimpleUploadedFile(name, b"Hello\0 world.")
    response = owner_api.post("/api/v1/productions", {"file": upload, "voice": "joe"}, format="multipart")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error" and "file" in error["details"]
    assert "null" in " ".join(error["details"]["file"]).lower()
    assert _nothing_written()


def test_segments_are_written_in_batches_and_the_production_completes(monkeypatch, post_production, run_worker):
    monkeypatch.setattr(services, "BATCH", 2)
    body = post_production("".join(f"[voice: joe]Sentence number {n}. " for n in range(7))).json()
    segments = ProductionSegment.objects.filter(production_id=body["id"]).order_by("index")
    assert (
        list(segments.values_list("index", flat=True))
        == list(range(1, 8))
        == list(range(1, body["segments_total"] + 1))
    )
    assert SynthesisJob.objects.filter(pk__in=segments.values("job_id"), status="queued").count() == 7
    run_worker()
    assert production(body["id"]).status == "completed"


def test_a_production_whose_segments_are_still_being_written_is_not_assembled(post_production, run_worker):
    body = post_production().json()
    # As between two of production_create's batches: one more segment is still to come.
    Production.objects.filter(pk=body["id"]).update(segments_total=body["segments_total"] + 1)
    run_worker()
    assert production(body["id"]).status == "running"
    assert not production(body["id"]).audio_file


def test_a_production_cancelled_while_its_segments_are_written_gets_no_more(monkeypatch, owner, post_production):
    monkeypatch.setattr(services, "BATCH", 2)
    written = services._create_segments

    def cancel_after_first_batch(production, planned, *, start, **kwargs):  # type: ignore[no-untyped-def]
        if start == 2:  # another request cancels between two batches
            services.production_cancel(production=Production.objects.get(pk=production.pk))
        return written(production, planned, start=start, **kwargs)

    monkeypatch.setattr(services, "_create_segments", cancel_after_first_batch)
    body = post_production("".join(f"[voice: joe]Sentence number {n}. " for n in range(7))).json()
    assert body["status"] == "cancelled"
    assert ProductionSegment.objects.filter(production_id=body["id"]).count() == 2
    assert not SynthesisJob.objects.filter(status__in=SynthesisJob.ACTIVE).exists()
    assert UsageRecord.objects.get(job_id=body["id"]).characters == 0  # nothing was spoken


@pytest.mark.django_db
def test_the_detail_embeds_the_first_chapters_and_the_chapters_are_paged(owner_api, post_production):
    count = CHAPTERS_EMBEDDED + 3
    body = post_production("".join(f"# Part {n}\nWords.\n" for n in range(1, count + 1))).json()
    assert Chapter.objects.filter(production_id=body["id"]).count() == count
    detail = owner_api.get(f"/api/v1/productions/{body['id']}").json()
    assert detail["chapters_total"] == count and len(detail["chapters"]) == CHAPTERS_EMBEDDED
    assert detail["urls"]["chapters"] == f"/api/v1/productions/{body['id']}/chapters"
    titles = []
    url = f"{detail['urls']['chapters']}?page_size=20"
    while url:
        page = owner_api.get(url).json()
        assert len(page["results"]) <= 20
        titles += [c["title"] for c in page["results"]]
        url = page["next"]
    assert titles == [f"Part {n}" for n in range(1, count + 1)]


@pytest.mark.django_db
def test_another_users_chapters_are_a_404(post_production, outsider_api):
    body = post_production().json()
    assert outsider_api.get(f"/api/v1/productions/{body['id']}/chapters").status_code == 404
