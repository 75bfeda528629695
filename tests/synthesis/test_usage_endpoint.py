"""GET /api/v1/usage: sums match history; a retried job is billed once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from synthesis.models import SynthesisJob
from synthesis.queue import job_claim_next, job_requeue_expired

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]


def test_usage_sums_match_history(owner_api, post_job, run_worker):
    for text in ("One two three.", "(happy) Four five six seven.", "Eight."):
        post_job(text)
    run_worker()
    jobs = owner_api.get("/api/v1/synthesis").json()["results"]
    usage = owner_api.get("/api/v1/usage?group_by=day").json()
    totals = usage["totals"]
    assert totals["characters"] == sum(j["character_count"] for j in jobs)
    assert totals["words"] == sum(j["word_count"] for j in jobs) == 8
    assert totals["audio_seconds"] == pytest.approx(sum(j["audio_duration"] for j in jobs), abs=0.01)
    assert totals["jobs"] == 3 and totals["failures"] == 0
    assert usage["groups"][0]["key"] == timezone.now().date().isoformat()
    assert usage["quota"]["used"] == totals["characters"]


def test_usage_groups_by_key_and_voice(owner, owner_api, api_for, post_job, run_worker, client):
    post_job("From the owner key.")
    second = api_for(owner)
    second.post("/api/v1/synthesis", {"text": "From another key.", "voice": "joe"}, format="json")
    run_worker()
    by_key = owner_api.get("/api/v1/usage?group_by=key").json()["groups"]
    assert len(by_key) == 2 and all(g["jobs"] == 1 for g in by_key)
    by_voice = owner_api.get("/api/v1/usage?group_by=voice").json()["groups"]
    assert [(g["key"], g["jobs"]) for g in by_voice] == [("joe", 2)]


def test_a_retried_job_is_billed_once(owner_api, post_job, run_worker):
    job_id = post_job("Retried but billed once.").json()["id"]
    job_claim_next(worker_id="crashed")
    SynthesisJob.objects.filter(pk=job_id).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    job_requeue_expired()
    run_worker()
    assert SynthesisJob.objects.get(pk=job_id).attempts == 2
    assert owner_api.get("/api/v1/usage").json()["totals"]["jobs"] == 1


def test_failures_are_counted(owner_api, post_job, settings):
    settings.JOB_MAX_ATTEMPTS = 1
    job_id = post_job("Doomed.").json()["id"]
    job_claim_next(worker_id="crashed")
    SynthesisJob.objects.filter(pk=job_id).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    job_requeue_expired()
    totals = owner_api.get("/api/v1/usage").json()["totals"]
    assert totals["failures"] == 1 and totals["jobs"] == 0 and totals["characters"] == 0


def test_a_date_range_and_bad_group(owner_api):
    assert owner_api.get("/api/v1/usage?from=2026-01-01&to=2026-01-31").status_code == 200
    assert owner_api.get("/api/v1/usage?group_by=hour").status_code == 400
