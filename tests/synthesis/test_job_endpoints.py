"""GET/DELETE /api/v1/synthesis/{id}, /cancel and /audio: owner only, every format."""

from __future__ import annotations

import io

import pytest
import soundfile as sf

from speech import audio

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]


@pytest.fixture
def completed_job(post_job, run_worker) -> str:  # type: ignore[no-untyped-def]
    job_id = post_job("Speaker makes speech. It is clear and calm.").json()["id"]
    run_worker()
    return job_id


def test_the_owner_sees_the_completed_job_with_its_audio_url(owner_api, completed_job):
    body = owner_api.get(f"/api/v1/synthesis/{completed_job}").json()
    assert body["status"] == "completed" and body["urls"]["audio"] == f"/api/v1/synthesis/{completed_job}/audio"
    assert body["audio_duration"] > 1.0 and body["realtime_factor"] > 0


@pytest.mark.parametrize("fmt", ["wav", "mp3", "ogg", "flac", "pcm"])
def test_every_format_downloads_and_decodes(owner_api, completed_job, fmt):
    response = owner_api.get(f"/api/v1/synthesis/{completed_job}/audio?format={fmt}")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    data = b"".join(response.streaming_content) if response.streaming else response.content
    if fmt == "pcm":
        pcm = audio.from_s16le(data)
    else:
        pcm, rate = sf.read(io.BytesIO(data), dtype="float32")
        assert rate == 22050
    assert len(pcm) / 22050 > 1.0


def test_a_range_request_gets_206_with_the_asked_bytes(owner_api, completed_job):
    full = b"".join(owner_api.get(f"/api/v1/synthesis/{completed_job}/audio").streaming_content)
    part = owner_api.get(f"/api/v1/synthesis/{completed_job}/audio", HTTP_RANGE="bytes=10-19")
    assert part.status_code == 206
    assert part.content == full[10:20] and part["Content-Range"] == f"bytes 10-19/{len(full)}"
    assert (
        owner_api.get(f"/api/v1/synthesis/{completed_job}/audio", HTTP_RANGE=f"bytes={len(full)}-").status_code == 416
    )


def test_audio_of_an_unfinished_job_is_409(owner_api, post_job):
    job_id = post_job().json()["id"]
    assert owner_api.get(f"/api/v1/synthesis/{job_id}/audio").status_code == 409


def test_cancelling_a_queued_job(owner_api, post_job, run_worker):
    job_id = post_job().json()["id"]
    assert owner_api.post(f"/api/v1/synthesis/{job_id}/cancel").json()["status"] == "cancelled"
    run_worker()
    assert owner_api.get(f"/api/v1/synthesis/{job_id}").json()["status"] == "cancelled"
    assert owner_api.post(f"/api/v1/synthesis/{job_id}/cancel").status_code == 409


def test_deleting_a_job_removes_its_audio_files(owner_api, completed_job, settings):
    owner_api.get(f"/api/v1/synthesis/{completed_job}/audio?format=mp3")
    files = list((settings.MEDIA_ROOT / "jobs").rglob(f"{completed_job}*"))
    assert len(files) == 2
    assert owner_api.delete(f"/api/v1/synthesis/{completed_job}").status_code == 204
    assert not any(path.exists() for path in files)
    assert owner_api.get(f"/api/v1/synthesis/{completed_job}").status_code == 404


@pytest.mark.parametrize(("method", "suffix"), [("get", ""), ("get", "/audio"), ("post", "/cancel"), ("delete", "")])
def test_an_outsider_gets_404_on_the_owners_job(outsider_api, completed_job, method, suffix):
    response = getattr(outsider_api, method)(f"/api/v1/synthesis/{completed_job}{suffix}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_a_browser_accept_header_still_gets_the_audio(owner_api, completed_job):
    response = owner_api.get(f"/api/v1/synthesis/{completed_job}/audio", HTTP_ACCEPT="audio/webm,audio/*;q=0.9")
    assert response.status_code == 200 and response["Content-Type"] == "audio/wav"
