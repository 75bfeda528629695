"""Monthly character quota and the active-jobs cap."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from synthesis.models import UsageRecord
from synthesis.quotas import next_month_start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]


def test_hitting_the_quota_mid_month_is_429_with_reset_time_and_remaining(owner, post_job, run_worker):
    owner.monthly_character_quota = 60
    owner.save()
    first = post_job("Thirty characters of speech!!")  # 29 spoken characters
    assert first.status_code == 202
    run_worker()
    assert first.json()["character_count"] == 29
    refused = post_job("This sentence is longer than what is left of the quota.")
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "quota_exceeded"
    assert error["details"]["remaining"] == 31 and error["details"]["limit"] == 60
    assert error["details"]["resets_at"].startswith(next_month_start().date().isoformat())
    assert int(refused["Retry-After"]) > 0
    assert post_job("Short one.").status_code == 202  # what is left can still be used


def test_queued_jobs_reserve_their_characters(owner, post_job):
    owner.monthly_character_quota = 30
    owner.save()
    assert post_job("Twenty characters ok").status_code == 202
    assert post_job("Twenty characters ok").status_code == 429


def test_deleting_history_does_not_refill_the_quota(owner, owner_api, post_job, run_worker):
    owner.monthly_character_quota = 40
    owner.save()
    job_id = post_job("Twenty-five characters ok.").json()["id"]
    run_worker()
    owner_api.delete(f"/api/v1/synthesis/{job_id}")
    assert post_job("Twenty-five characters ok.").status_code == 429


def test_synthesis_responses_carry_characters_used_and_remaining(owner, post_job):
    owner.monthly_character_quota = 100
    owner.save()
    response = post_job("Hello world.")
    assert response["X-Characters-Used"] == "12" and response["X-Characters-Remaining"] == "88"


def test_the_active_jobs_cap_is_429(owner, post_job, settings):
    settings.QUOTA_MAX_ACTIVE_JOBS = 2
    assert [post_job(f"Job {n}.").status_code for n in range(2)] == [202, 202]
    refused = post_job("One too many.")
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_many_active_jobs"


def test_a_per_user_override_beats_the_setting(owner, post_job, settings):
    settings.QUOTA_MAX_ACTIVE_JOBS = 1
    owner.max_active_jobs = 3
    owner.save()
    assert [post_job(f"Job {n}.").status_code for n in range(3)] == [202, 202, 202]


def test_last_months_usage_does_not_count(owner, post_job):
    owner.monthly_character_quota = 20
    owner.save()
    record = UsageRecord.objects.create(
        job_id="00000000-0000-0000-0000-000000000001",
        user=owner,
        voice_name="joe",
        engine="piper",
        language="en",
        characters=20,
    )
    # A clock in the past: the record was made last month.
    UsageRecord.objects.filter(pk=record.pk).update(created_at=datetime(2000, 1, 31, tzinfo=UTC))
    assert post_job("Fine again.").status_code == 202
