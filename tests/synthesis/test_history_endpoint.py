"""GET /api/v1/synthesis (history) and POST /api/v1/synthesis/bulk-delete."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from synthesis.models import SynthesisJob

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]


@pytest.fixture
def history(post_job, run_worker):  # type: ignore[no-untyped-def]
    ids = [post_job(text).json()["id"] for text in ("Apples are red.", "Bananas are yellow.", "Cherries are dark.")]
    run_worker()
    cancelled = post_job("Never spoken.").json()["id"]
    SynthesisJob.objects.filter(pk=cancelled).update(status="cancelled")
    SynthesisJob.objects.filter(pk=ids[0]).update(queued_at=timezone.now() - timedelta(days=10))
    return ids + [cancelled]


def ids_of(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [job["id"] for job in response.json()["results"]]


def test_history_is_paginated_newest_first(owner_api, history):
    page = owner_api.get("/api/v1/synthesis?page_size=2")
    assert page.json()["count"] == 4 and len(page.json()["results"]) == 2 and page.json()["next"]
    everything = ids_of(owner_api.get("/api/v1/synthesis"))
    assert everything[-1] == history[0]  # the oldest last
    assert ids_of(owner_api.get("/api/v1/synthesis?ordering=queued_at"))[0] == history[0]


def test_history_filters(owner_api, history):
    assert ids_of(owner_api.get("/api/v1/synthesis?status=cancelled")) == [history[3]]
    assert ids_of(owner_api.get("/api/v1/synthesis?q=banana")) == [history[1]]
    assert len(ids_of(owner_api.get("/api/v1/synthesis?voice=joe&language=en"))) == 4
    assert ids_of(owner_api.get("/api/v1/synthesis?voice=nobody")) == []
    since = (timezone.now() - timedelta(days=1)).date().isoformat()
    assert history[0] not in ids_of(owner_api.get(f"/api/v1/synthesis?from={since}"))
    until = (timezone.now() - timedelta(days=5)).date().isoformat()
    assert ids_of(owner_api.get(f"/api/v1/synthesis?to={until}")) == [history[0]]


def test_bad_filters_are_400(owner_api):
    assert owner_api.get("/api/v1/synthesis?status=exploded").status_code == 400
    assert owner_api.get("/api/v1/synthesis?from=yesterday").status_code == 400


@pytest.mark.parametrize("value", ["queued,,running", "queued,", ",queued", ","])
def test_a_status_list_with_an_empty_item_is_400_not_read_as_a_shorter_list(owner_api, value):
    response = owner_api.get("/api/v1/synthesis", {"status": value})
    assert response.status_code == 400
    assert "empty item" in response.json()["error"]["message"]


def test_an_unknown_status_is_named_in_the_message(owner_api):
    message = owner_api.get("/api/v1/synthesis?status=queued,exploded").json()["error"]["message"]
    assert "'exploded'" in message and "completed" in message


def test_history_shows_only_own_jobs(outsider_api, history):
    assert outsider_api.get("/api/v1/synthesis").json()["count"] == 0


def test_bulk_delete_removes_jobs_and_audio_but_not_other_users(owner_api, outsider_api, history, settings):
    files = list((settings.MEDIA_ROOT / "jobs").rglob("*.wav"))
    assert len(files) == 3
    assert outsider_api.post("/api/v1/synthesis/bulk-delete", {"ids": history}, format="json").json() == {"deleted": 0}
    response = owner_api.post("/api/v1/synthesis/bulk-delete", {"ids": history[:3]}, format="json")
    assert response.json() == {"deleted": 3}
    assert not any(path.exists() for path in files)
    assert ids_of(owner_api.get("/api/v1/synthesis")) == [history[3]]


def test_bulk_delete_validates_ids(owner_api):
    assert owner_api.post("/api/v1/synthesis/bulk-delete", {"ids": ["nope"]}, format="json").status_code == 400
    assert owner_api.post("/api/v1/synthesis/bulk-delete", {"ids": []}, format="json").status_code == 400


def test_a_to_date_includes_that_whole_day(owner_api, history):
    today = timezone.now().date().isoformat()
    assert len(ids_of(owner_api.get(f"/api/v1/synthesis?to={today}"))) == 4
