"""POST /api/v1/productions: a text (JSON or an uploaded .txt/.md) becomes chapters and
segment jobs, billed once; bad input is a clear 4xx."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from productions.models import Production, ProductionSegment
from synthesis.models import SynthesisJob, UsageRecord
from synthesis.quotas import quota_state
from tests.productions.conftest import BOOK

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]


def test_it_accepts_a_text_and_queues_one_bulk_segment_job_per_segment(owner, post_production):
    response = post_production()
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] == "running" and body["segments_done"] == 0
    assert [c["title"] for c in body["chapters"]] == ["A book", "The first chapter", "The second chapter"]
    segments = ProductionSegment.objects.filter(production_id=body["id"])
    assert segments.count() == body["segments_total"] >= 3
    jobs = SynthesisJob.objects.filter(pk__in=segments.values("job_id"))
    assert set(jobs.values_list("mode", "priority", "status")) == {("segment", SynthesisJob.Priority.BULK, "queued")}


def test_its_characters_are_billed_once_and_its_segments_are_not_reserved_again(owner, post_production):
    before = quota_state(user=owner)
    body = post_production().json()
    after = quota_state(user=owner)
    assert UsageRecord.objects.filter(user=owner).count() == 1
    assert after.used - before.used == body["character_count"]
    assert after.reserved == before.reserved == 0


def test_its_segments_are_not_in_the_job_history(owner_api, post_production):
    post_production()
    assert owner_api.get("/api/v1/synthesis").json()["count"] == 0


def test_it_accepts_an_uploaded_markdown_file(owner_api):
    upload = SimpleUploadedFile("book.md", BOOK.encode("utf-8"), content_type="text/markdown")
    response = owner_api.post(
        "/api/v1/productions", {"file": upload, "voice": "joe", "title": "Upload"}, format="multipart"
    )
    assert response.status_code == 202, response.json()
    assert len(response.json()["chapters"]) == 3


def test_it_refuses_a_file_that_is_not_utf8(owner_api):
    upload = SimpleUploadedFile("book.txt", "Caf\u00e9 au lait.".encode("latin-1"))
    response = owner_api.post("/api/v1/productions", {"file": upload, "voice": "joe"}, format="multipart")
    assert response.status_code == 415 and response.json()["error"]["code"] == "unsupported_media_type"
    assert "UTF-8" in response.json()["error"]["message"]


def test_it_refuses_a_file_that_is_not_text_or_markdown(owner_api):
    upload = SimpleUploadedFile("book.pdf", b"%PDF-1.4")
    response = owner_api.post("/api/v1/productions", {"file": upload, "voice": "joe"}, format="multipart")
    assert response.status_code == 415 and ".txt or .md" in response.json()["error"]["message"]


def test_it_refuses_both_a_text_and_a_file_or_neither(owner_api):
    upload = SimpleUploadedFile("book.txt", b"Hello.")
    both = owner_api.post("/api/v1/productions", {"file": upload, "text": "Hello.", "voice": "joe"}, format="multipart")
    neither = owner_api.post("/api/v1/productions", {"voice": "joe"}, format="json")
    assert both.status_code == neither.status_code == 400
    assert both.json()["error"]["code"] == "validation_error"


def test_it_refuses_a_text_longer_than_the_limit(settings, post_production):
    settings.LONGFORM_MAX_CHARACTERS = 50
    response = post_production("A sentence of some length. " * 4)
    assert response.status_code == 400
    assert "LONGFORM_MAX_CHARACTERS" in response.json()["error"]["message"]
    assert Production.objects.count() == 0


def test_it_refuses_a_text_with_nothing_to_speak(post_production):
    response = post_production("# Only a heading\n\n## And another\n")
    assert response.status_code == 400 and "nothing to speak" in response.json()["error"]["message"]


def test_a_voice_marker_naming_an_unknown_voice_is_a_404_naming_it(post_production):
    response = post_production("Hello. [voice: Nobody] Who am I?")
    assert response.status_code == 404
    assert "Nobody" in response.json()["error"]["message"]
    assert Production.objects.count() == 0 and SynthesisJob.objects.count() == 0


def test_it_refuses_a_text_past_the_monthly_quota(owner, post_production):
    owner.monthly_character_quota = 10
    owner.save()
    response = post_production()
    assert response.status_code == 429 and response.json()["error"]["code"] == "quota_exceeded"
    assert SynthesisJob.objects.count() == 0


def test_another_users_production_is_a_404(post_production, outsider_api):
    body = post_production().json()
    for url in (f"/api/v1/productions/{body['id']}", f"/api/v1/productions/{body['id']}/segments"):
        assert outsider_api.get(url).status_code == 404
    assert outsider_api.post(f"/api/v1/productions/{body['id']}/pause").status_code == 404
    assert outsider_api.get("/api/v1/productions").json()["count"] == 0
