"""POST /api/v1/voices/{id}/samples and DELETE /api/v1/voices/{id}/samples/{sample_id}."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from monitoring.models import AuditEvent
from voices.models import ConsentRecord, Voice, VoiceSample

from .conftest import media_files

pytestmark = pytest.mark.usefixtures("piper_only_engines")


@pytest.fixture
def voice_id(create_voice) -> str:  # type: ignore[no-untyped-def]
    response = create_voice()
    assert response.status_code == 201
    return response.json()["id"]


def add(client, voice_id: str, files: list, **fields):  # type: ignore[no-untyped-def]
    body = {"samples": files, "consent": "true", **fields}
    return client.post(f"/api/v1/voices/{voice_id}/samples", body, format="multipart")


def test_it_adds_a_consented_sample_and_prepares_the_voice_again(owner_api, voice_id, other_upload) -> None:
    response = add(owner_api, voice_id, [other_upload()], emotions="happy")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert len(body["samples"]) == 2
    assert {s["emotion"] for s in body["samples"]} == {"neutral", "happy"}
    assert body["status"] == "pending_engine"
    assert Voice.objects.get(pk=voice_id).samples_version == 2
    assert ConsentRecord.objects.count() == 2
    assert len(media_files(settings.MEDIA_ROOT)) == 2


def test_it_needs_consent_to_add_samples(owner_api, voice_id, other_upload) -> None:
    response = add(owner_api, voice_id, [other_upload()], consent="false")

    assert response.status_code == 400
    assert "consent" in response.json()["error"]["details"]
    assert VoiceSample.objects.count() == 1
    assert len(media_files(settings.MEDIA_ROOT)) == 1


def test_it_answers_409_when_the_voice_would_have_too_many_samples(owner_api, voice_id, other_upload, settings) -> None:
    settings.VOICE_MAX_SAMPLES = 1

    response = add(owner_api, voice_id, [other_upload()])

    assert response.status_code == 409
    assert response.json()["error"]["details"]["max_samples"] == 1
    assert VoiceSample.objects.count() == 1
    assert len(media_files(settings.MEDIA_ROOT)) == 1


def test_it_answers_409_for_a_sample_the_voice_already_has(owner_api, voice_id, speech_upload) -> None:
    response = add(owner_api, voice_id, [speech_upload("again.wav")])

    assert response.status_code == 409
    assert VoiceSample.objects.count() == 1
    assert len(media_files(settings.MEDIA_ROOT)) == 1


def test_a_rejected_sample_leaves_the_voice_as_it_was(owner_api, voice_id) -> None:
    before = media_files(settings.MEDIA_ROOT)

    response = add(owner_api, voice_id, [SimpleUploadedFile("x.wav", b"RIFF....WAVEfmt " + b"\x00" * 30)])

    assert response.status_code in (415, 422)
    assert media_files(settings.MEDIA_ROOT) == before
    assert Voice.objects.get(pk=voice_id).samples_version == 1
    assert (
        not AuditEvent.objects.filter(action="sample.uploaded")
        .exclude(target_id__in=[str(s.pk) for s in VoiceSample.objects.all()])
        .exists()
    )


def test_it_refuses_samples_for_a_builtin_voice(owner_api, other_upload) -> None:
    joe = next(v for v in owner_api.get("/api/v1/voices").json()["results"] if v["is_builtin"])

    response = add(owner_api, joe["id"], [other_upload()])

    assert response.status_code == 403
    assert media_files(settings.MEDIA_ROOT) == []


def test_deleting_a_sample_removes_its_row_and_file_and_audits_its_hash(
    owner_api, voice_id, other_upload, django_capture_on_commit_callbacks
) -> None:
    add(owner_api, voice_id, [other_upload()])
    sample = VoiceSample.objects.filter(voice_id=voice_id).order_by("created_at").last()
    path = Path(settings.MEDIA_ROOT) / sample.file

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_api.delete(f"/api/v1/voices/{voice_id}/samples/{sample.pk}")

    assert response.status_code == 204
    assert not path.exists()
    assert not VoiceSample.objects.filter(pk=sample.pk).exists()
    assert len(media_files(settings.MEDIA_ROOT)) == 1
    assert Voice.objects.get(pk=voice_id).samples_version == 3
    event = AuditEvent.objects.get(action="sample.deleted")
    assert event.details["sha256"] == sample.sha256


def test_it_refuses_to_delete_the_last_sample(owner_api, voice_id) -> None:
    sample = VoiceSample.objects.get(voice_id=voice_id)

    response = owner_api.delete(f"/api/v1/voices/{voice_id}/samples/{sample.pk}")

    assert response.status_code == 409
    assert VoiceSample.objects.filter(pk=sample.pk).exists()


def test_a_sample_of_another_voice_is_404(owner_api, voice_id, create_voice, other_upload) -> None:
    second = create_voice(name="Second", samples=[other_upload()]).json()["id"]
    sample = VoiceSample.objects.get(voice_id=second)

    response = owner_api.delete(f"/api/v1/voices/{voice_id}/samples/{sample.pk}")

    assert response.status_code == 404
