"""GET /api/v1/synthesis/{id}/timings: a finished job's words with their start and end
in its audio, and how they were found; owner only."""

from __future__ import annotations

import pytest

from speech.timings import spoken_words
from synthesis.models import SynthesisJob

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]

TEXT = "(happy) Speaker makes speech. It is clear, and calm!"


@pytest.fixture
def completed_job(post_job, run_worker) -> str:  # type: ignore[no-untyped-def]
    job_id = post_job(TEXT).json()["id"]
    run_worker()
    return job_id


def test_a_piper_job_has_exact_timings_for_every_spoken_word(owner_api, completed_job):
    response = owner_api.get(f"/api/v1/synthesis/{completed_job}/timings")
    assert response.status_code == 200
    body = response.json()
    assert body["method"] == "exact"
    assert [w["text"] for w in body["words"]] == spoken_words(TEXT)


def test_timings_are_monotonic_and_cover_the_audio(owner_api, completed_job):
    words = owner_api.get(f"/api/v1/synthesis/{completed_job}/timings").json()["words"]
    duration = SynthesisJob.objects.get(pk=completed_job).audio_duration
    last = 0.0
    for word in words:
        assert last <= word["start"] <= word["end"], words
        last = word["end"]
    assert words[0]["start"] < 0.5
    assert duration - 0.5 < words[-1]["end"] <= duration + 0.01


def test_the_job_links_to_its_timings_and_captions(owner_api, completed_job):
    urls = owner_api.get(f"/api/v1/synthesis/{completed_job}").json()["urls"]
    assert urls["timings"] == f"/api/v1/synthesis/{completed_job}/timings"
    assert urls["captions"] == f"/api/v1/synthesis/{completed_job}/captions?format=vtt"


def test_a_job_stored_without_timings_gets_estimates_from_its_audio(owner_api, completed_job):
    SynthesisJob.objects.filter(pk=completed_job).update(timings=None)  # as a job made before timings existed
    body = owner_api.get(f"/api/v1/synthesis/{completed_job}/timings").json()
    assert body["method"] == "estimated"
    assert [w["text"] for w in body["words"]] == spoken_words(TEXT)
    assert body["words"][-1]["end"] <= SynthesisJob.objects.get(pk=completed_job).audio_duration + 0.01


def test_another_users_job_is_not_found(outsider_api, completed_job):
    response = outsider_api.get(f"/api/v1/synthesis/{completed_job}/timings")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_job_not_finished_yet_is_a_conflict_that_says_so(owner_api, post_job):
    job_id = post_job(TEXT).json()["id"]  # no worker runs: still queued
    response = owner_api.get(f"/api/v1/synthesis/{job_id}/timings")
    assert response.status_code == 409
    assert "once it is completed" in response.json()["error"]["message"]


def test_anonymous_callers_are_refused(anon, completed_job):
    assert anon.get(f"/api/v1/synthesis/{completed_job}/timings").status_code == 401
