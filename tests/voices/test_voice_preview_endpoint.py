"""GET /api/v1/voices/{id}/preview: generated once, cached until the voice changes."""

from __future__ import annotations

import io

import pytest
import soundfile as sf
from rest_framework.test import APIClient

from synthesis.models import SynthesisJob, UsageRecord
from voices.models import Voice

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("piper_only")]


@pytest.fixture
def joe(owner_api) -> Voice:  # type: ignore[no-untyped-def]
    owner_api.get("/api/v1/voices")  # the list syncs the built-in catalogue
    return Voice.objects.get(is_builtin=True, builtin_key="joe")


def preview(client: APIClient, voice_id) -> bytes:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/voices/{voice_id}/preview")
    assert response.status_code == 200, getattr(response, "content", b"")
    return b"".join(response.streaming_content)


def test_a_preview_is_real_speech_and_neither_billed_nor_in_history(owner_api, joe, settings):
    settings.EMBEDDED_WORKER = True
    data = preview(owner_api, joe.pk)
    pcm, rate = sf.read(io.BytesIO(data), dtype="float32")
    assert rate == 22050 and len(pcm) / rate > 1.0 and abs(pcm).max() > 0.05
    assert owner_api.get("/api/v1/synthesis").json()["count"] == 0
    assert UsageRecord.objects.count() == 0 and SynthesisJob.objects.count() == 0


def test_a_preview_is_generated_once_and_then_served_from_cache(owner_api, outsider_api, joe, settings):
    settings.EMBEDDED_WORKER = True
    first = preview(owner_api, joe.pk)
    cached = list((settings.MEDIA_ROOT / "previews").rglob("*.wav"))
    assert len(cached) == 1
    mtime = cached[0].stat().st_mtime_ns
    assert preview(outsider_api, joe.pk) == first  # built-ins are shared
    assert cached[0].stat().st_mtime_ns == mtime


def test_a_changed_voice_gets_a_new_preview(owner_api, joe, settings):
    settings.EMBEDDED_WORKER = True
    preview(owner_api, joe.pk)
    Voice.objects.filter(pk=joe.pk).update(samples_version=joe.samples_version + 1)
    preview(owner_api, joe.pk)
    assert [p.name.split("-")[0] for p in (settings.MEDIA_ROOT / "previews").rglob("*.wav")] == [
        str(joe.samples_version + 1)
    ]


def test_another_users_clone_has_no_preview_for_you(outsider_api, create_voice):
    voice_id = create_voice().json()["id"]
    assert outsider_api.get(f"/api/v1/voices/{voice_id}/preview").status_code == 404


def test_a_clone_without_its_engine_is_409(owner_api, create_voice):
    voice_id = create_voice().json()["id"]
    response = owner_api.get(f"/api/v1/voices/{voice_id}/preview")
    assert response.status_code == 409 and "xtts" in response.json()["error"]["message"]
