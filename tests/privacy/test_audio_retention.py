"""AUDIO_RETENTION_DAYS: generated audio older than that is deleted by the worker's
sweep; the job stays in history with `audio_expired: true`, and its download is a 410
saying why. Off by default."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from engine_host.worker import EngineWorker
from synthesis.models import SynthesisJob
from tests.privacy.conftest import media_files


def made_days_ago(client, run_worker, *days: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Jobs generated now by a real worker, then dated `days` ago (one job each)."""
    ids = [
        client.post("/api/v1/synthesis", {"text": f"Made {n} days ago.", "voice": "joe"}, format="json").json()["id"]
        for n in days
    ]
    run_worker()
    for job_id, n in zip(ids, days, strict=True):
        SynthesisJob.objects.filter(pk=job_id).update(finished_at=timezone.now() - timedelta(days=n))
    return ids


def test_old_audio_is_deleted_and_the_history_row_stays(owner_api, run_worker, settings):
    settings.AUDIO_RETENTION_DAYS = 30
    old, recent = made_days_ago(owner_api, run_worker, 31, 29)
    old_files = [path for path in media_files(settings.MEDIA_ROOT) if old in path]
    assert old_files

    run_worker(EngineWorker(worker_id="sweeper"))

    left = media_files(settings.MEDIA_ROOT)
    assert not [path for path in left if old in path] and [path for path in left if recent in path]
    body = owner_api.get(f"/api/v1/synthesis/{old}").json()
    assert body["status"] == "completed" and body["audio_expired"] is True and "audio" not in body["urls"]
    assert body["text"] == "Made 31 days ago." and body["audio_duration"] > 0
    assert owner_api.get(f"/api/v1/synthesis/{recent}").json()["audio_expired"] is False
    history = owner_api.get("/api/v1/synthesis").json()["results"]
    assert {row["id"]: row["audio_expired"] for row in history} == {old: True, recent: False}


def test_an_expired_download_is_a_410_that_says_why(owner_api, run_worker, settings):
    settings.AUDIO_RETENTION_DAYS = 7
    (old,) = made_days_ago(owner_api, run_worker, 8)
    run_worker(EngineWorker(worker_id="sweeper"))
    for fmt in ("wav", "mp3"):
        response = owner_api.get(f"/api/v1/synthesis/{old}/audio?format={fmt}")
        assert response.status_code == 410
        error = response.json()["error"]
        assert error["code"] == "audio_expired"
        assert "deleted after 7 days" in error["message"] and "retention" in error["message"]
        assert error["details"] == {"audio_expired": True, "retention_days": 7}


def test_retention_is_off_by_default(owner_api, run_worker):
    assert settings.AUDIO_RETENTION_DAYS == 0
    (old,) = made_days_ago(owner_api, run_worker, 3650)
    run_worker(EngineWorker(worker_id="sweeper"))
    assert owner_api.get(f"/api/v1/synthesis/{old}/audio").status_code == 200


def test_a_productions_segments_keep_their_audio(owner_api, run_worker, settings):
    settings.AUDIO_RETENTION_DAYS = 1
    owner_api.post("/api/v1/productions", {"text": "# One\nA short chapter.", "voice": "joe"}, format="json")
    run_worker()
    SynthesisJob.objects.update(finished_at=timezone.now() - timedelta(days=5))
    before = media_files(settings.MEDIA_ROOT)
    run_worker(EngineWorker(worker_id="sweeper"))
    assert media_files(settings.MEDIA_ROOT) == before
    assert not SynthesisJob.objects.filter(audio_expired=True).exists()


def test_the_schema_states_audio_expired_and_the_410(client, db):
    schema = client.get("/openapi.json").json()
    job = schema["components"]["schemas"]["Job"]
    assert job["properties"]["audio_expired"]["type"] == "boolean" and "audio_expired" in job["required"]
    audio = schema["paths"]["/api/v1/synthesis/{job_id}/audio"]["get"]["responses"]
    assert "410" in audio and "retention" in audio["410"]["description"]
