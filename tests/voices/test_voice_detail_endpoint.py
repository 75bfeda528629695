"""GET/PATCH/DELETE /api/v1/voices/{id}."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from monitoring.models import AuditEvent
from voices.models import ConsentRecord, Voice, VoiceSample

from .conftest import media_files

pytestmark = pytest.mark.usefixtures("piper_only_engines")


@pytest.fixture
def voice_id(create_voice) -> str:  # type: ignore[no-untyped-def]
    response = create_voice()
    assert response.status_code == 201
    return response.json()["id"]


@pytest.fixture
def joe(owner_api) -> dict:  # type: ignore[no-untyped-def]
    results = owner_api.get("/api/v1/voices", {"engine": "piper"}).json()["results"]
    return next(v for v in results if v["builtin_key"] == "joe")


def test_it_shows_your_voice_with_its_samples(owner_api, voice_id) -> None:
    body = owner_api.get(f"/api/v1/voices/{voice_id}").json()

    assert body["id"] == voice_id
    assert len(body["samples"]) == 1
    assert body["samples"][0]["audio_url"].endswith("/audio")


def test_it_shows_a_builtin_voice(owner_api, joe) -> None:
    assert owner_api.get(f"/api/v1/voices/{joe['id']}").json()["name"] == "joe"


def test_it_renames_and_describes_your_voice(owner_api, voice_id) -> None:
    response = owner_api.patch(f"/api/v1/voices/{voice_id}", {"name": "Nana", "description": "Stories"}, format="json")

    assert response.status_code == 200
    assert (response.json()["name"], response.json()["description"]) == ("Nana", "Stories")
    assert Voice.objects.get(pk=voice_id).name == "Nana"


def test_it_changes_the_primary_language_to_one_the_engine_speaks(owner_api, voice_id) -> None:
    assert owner_api.patch(f"/api/v1/voices/{voice_id}", {"language": "fr"}, format="json").json()["language"] == "fr"

    response = owner_api.patch(f"/api/v1/voices/{voice_id}", {"language": "xx"}, format="json")
    assert response.status_code == 400
    assert "language" in response.json()["error"]["details"]


def test_patching_does_not_touch_the_samples_or_conditioning(owner_api, voice_id) -> None:
    before = Voice.objects.get(pk=voice_id).samples_version

    owner_api.patch(f"/api/v1/voices/{voice_id}", {"name": "Nana"}, format="json")

    assert Voice.objects.get(pk=voice_id).samples_version == before


def test_it_refuses_to_edit_a_builtin_voice(owner_api, joe) -> None:
    response = owner_api.patch(f"/api/v1/voices/{joe['id']}", {"name": "Bob"}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert Voice.objects.get(pk=joe["id"]).name == "joe"


def test_it_refuses_to_delete_a_builtin_voice(owner_api, joe) -> None:
    response = owner_api.delete(f"/api/v1/voices/{joe['id']}")

    assert response.status_code == 403
    assert response.json()["error"]["message"] == "Built-in voices cannot be changed or deleted."
    assert Voice.objects.filter(pk=joe["id"]).exists()


def test_deleting_a_voice_removes_its_rows_and_files(owner_api, voice_id, django_capture_on_commit_callbacks) -> None:
    sample = VoiceSample.objects.get(voice_id=voice_id)
    path = Path(settings.MEDIA_ROOT) / sample.file
    assert path.is_file()

    with django_capture_on_commit_callbacks(execute=True):
        response = owner_api.delete(f"/api/v1/voices/{voice_id}")

    assert response.status_code == 204
    assert not Voice.objects.filter(pk=voice_id).exists()
    assert not VoiceSample.objects.exists()
    assert media_files(settings.MEDIA_ROOT) == []
    assert not (Path(settings.MEDIA_ROOT) / "voices" / voice_id).exists()


def test_deleting_a_voice_keeps_the_consent_record_and_audits_it(owner_api, voice_id) -> None:
    sha = VoiceSample.objects.get(voice_id=voice_id).sha256

    owner_api.delete(f"/api/v1/voices/{voice_id}")

    record = ConsentRecord.objects.get()
    assert record.voice is None and record.voice_name == "Grandma" and record.sample_sha256 == [sha]
    event = AuditEvent.objects.get(action="voice.deleted")
    assert event.target_id == voice_id
    assert event.details["samples"] == [sha]


def test_it_needs_the_write_scope_to_delete(api_for, owner, voice_id) -> None:
    assert api_for(owner, ["voices:read"]).delete(f"/api/v1/voices/{voice_id}").status_code == 403
    assert Voice.objects.filter(pk=voice_id).exists()


def test_an_unknown_voice_is_404(owner_api) -> None:
    response = owner_api.get("/api/v1/voices/00000000-0000-0000-0000-000000000000")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
