"""OpenAI's custom voices with consent: /v1/audio/voice_consents (a recording of the
speaker consenting, validated and stored like a voice sample) and /v1/audio/voices
(a voice cloned from a sample under one), in OpenAI's shapes."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from monitoring.models import AuditEvent
from synthesis.models import SynthesisJob  # noqa: F401 - the app's models are loaded
from tests.voices.conftest import media_files, wav_bytes
from voices.models import ConsentRecord, Voice, VoiceConsent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only_engines")]


def _consent(client, upload, *, name: str = "Grandma agrees", language: str = "en-US"):  # type: ignore[no-untyped-def]
    return client.post_form("/v1/audio/voice_consents", {"name": name, "language": language, "recording": upload})


def test_a_consent_recording_is_stored_like_a_sample_with_who_and_from_where(
    owner_openai, owner, speech_upload, piper_speech_wav
):
    response = _consent(owner_openai, speech_upload("consent.wav"))

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"object", "id", "name", "language", "created_at"}  # VoiceConsentResource, exactly
    assert body["object"] == "audio.voice_consent" and body["name"] == "Grandma agrees" and body["language"] == "en-US"
    assert isinstance(body["created_at"], int) and body["id"]
    consent = VoiceConsent.objects.get(pk=body["id"])
    assert consent.owner == owner and consent.username == owner.username
    assert consent.sha256 == hashlib.sha256(piper_speech_wav.read_bytes()).hexdigest()
    assert consent.ip == "127.0.0.1" and consent.api_key_prefix
    assert consent.path.is_file() and consent.duration_seconds > 4
    event = AuditEvent.objects.get(action="voice_consent.uploaded")
    assert event.target_id == body["id"] and event.details["sha256"] == consent.sha256


def test_consents_are_listed_read_renamed_and_deleted_in_openais_shapes(owner_openai, speech_upload):
    first = _consent(owner_openai, speech_upload(), name="first").json()
    second = _consent(owner_openai, speech_upload(), name="second").json()

    listing = owner_openai.get("/v1/audio/voice_consents", {"limit": 1}).json()
    assert listing["object"] == "list" and listing["has_more"] is True
    assert [c["id"] for c in listing["data"]] == [second["id"]]
    rest = owner_openai.get("/v1/audio/voice_consents", {"after": second["id"]}).json()
    assert [c["id"] for c in rest["data"]] == [first["id"]] and rest["has_more"] is False

    renamed = owner_openai.post_json(f"/v1/audio/voice_consents/{first['id']}", {"name": "renamed"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "renamed"
    assert owner_openai.get(f"/v1/audio/voice_consents/{first['id']}").json()["name"] == "renamed"

    deleted = owner_openai.delete(f"/v1/audio/voice_consents/{first['id']}")
    assert deleted.json() == {"object": "audio.voice_consent", "id": first["id"], "deleted": True}
    assert owner_openai.get(f"/v1/audio/voice_consents/{first['id']}").status_code == 404


def test_an_outsider_cannot_see_rename_delete_or_use_anothers_consent(owner_openai, outsider_openai, speech_upload):
    consent = _consent(owner_openai, speech_upload()).json()

    assert outsider_openai.get(f"/v1/audio/voice_consents/{consent['id']}").status_code == 404
    assert outsider_openai.post_json(f"/v1/audio/voice_consents/{consent['id']}", {"name": "x"}).status_code == 404
    assert outsider_openai.delete(f"/v1/audio/voice_consents/{consent['id']}").status_code == 404
    assert outsider_openai.get("/v1/audio/voice_consents").json()["data"] == []
    voice = outsider_openai.post_form(
        "/v1/audio/voices", {"name": "Stolen", "audio_sample": speech_upload(), "consent": consent["id"]}
    )
    assert voice.status_code == 404 and voice.json()["error"]["param"] == "consent"
    assert VoiceConsent.objects.filter(pk=consent["id"]).exists()


def test_a_voice_made_under_a_consent_keeps_it_in_its_consent_record(owner_openai, speech_upload, other_upload):
    consent = _consent(owner_openai, speech_upload()).json()

    response = owner_openai.post_form(
        "/v1/audio/voices", {"name": "Grandma", "audio_sample": other_upload(), "consent": consent["id"]}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    # OpenAI's published VoiceResource, and no other field (its additionalProperties is false).
    assert set(body) == {"object", "id", "name", "created_at"}
    assert body["object"] == "audio.voice" and body["name"] == "Grandma" and isinstance(body["created_at"], int)
    voice = Voice.objects.get(pk=body["id"])
    assert voice.language == "en"
    record = ConsentRecord.objects.get(voice=voice)
    stored = VoiceConsent.objects.get(pk=consent["id"])
    assert record.voice_consent == stored and record.voice_consent_sha256 == stored.sha256
    detail = owner_openai.get(f"/v1/audio/voices/{voice.pk}").json()
    assert detail == {**body, "type": "audio_sample", "status": "pending_engine"}


def test_a_consent_still_used_by_a_voice_cannot_be_deleted(owner_openai, speech_upload, other_upload):
    consent = _consent(owner_openai, speech_upload()).json()
    voice = owner_openai.post_form(
        "/v1/audio/voices", {"name": "Grandma", "audio_sample": other_upload(), "consent": consent["id"]}
    ).json()

    refused = owner_openai.delete(f"/v1/audio/voice_consents/{consent['id']}")

    assert refused.status_code == 409
    assert (
        refused.json()["error"]["type"] == "invalid_request_error"
        and "used by 1 voice" in refused.json()["error"]["message"]
    )
    assert VoiceConsent.objects.filter(pk=consent["id"]).exists()
    gone = owner_openai.delete(f"/v1/audio/voices/{voice['id']}")
    assert gone.json() == {"object": "audio.voice.deleted", "id": voice["id"], "deleted": True}
    assert owner_openai.delete(f"/v1/audio/voice_consents/{consent['id']}").status_code == 200
    # The evidence stays: the voice's consent record keeps the recording's hash.
    record = ConsentRecord.objects.get(voice_name="Grandma")
    assert record.voice_consent is None and len(record.voice_consent_sha256) == 64


def test_a_prompt_voice_is_a_clear_400(owner_openai, speech_upload):
    consent = _consent(owner_openai, speech_upload()).json()

    response = owner_openai.post_form(
        "/v1/audio/voices",
        {"name": "Dreamed", "type": "prompt", "prompt": "a deep warm voice", "consent": consent["id"]},
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "type" and "not supported" in error["message"]
    assert not Voice.objects.filter(name="Dreamed").exists()


def test_a_voice_without_a_sample_is_a_400(owner_openai, speech_upload):
    consent = _consent(owner_openai, speech_upload()).json()

    response = owner_openai.post_form("/v1/audio/voices", {"name": "Nobody", "consent": consent["id"]})

    assert response.status_code == 400 and response.json()["error"]["param"] == "audio_sample"


def test_a_sample_that_is_not_audio_is_415_naming_the_sample_and_nothing_is_stored(owner_openai, speech_upload):
    consent = _consent(owner_openai, speech_upload()).json()
    junk = SimpleUploadedFile("sample.wav", b"not a recording", content_type="audio/wav")

    response = owner_openai.post_form(
        "/v1/audio/voices", {"name": "Junk", "audio_sample": junk, "consent": consent["id"]}
    )

    assert response.status_code == 415 and response.json()["error"]["param"] == "audio_sample"
    assert not Voice.objects.filter(name="Junk").exists()


# ------------------------------------------------------------------ bad recordings


def _nothing_stored(settings) -> bool:  # type: ignore[no-untyped-def]
    return not VoiceConsent.objects.exists() and media_files(settings.MEDIA_ROOT) == []


def test_a_recording_that_is_not_audio_is_415_naming_it_and_nothing_is_stored(owner_openai, settings):
    upload = SimpleUploadedFile(
        "consent.wav", b"I agree, in writing, which is not a recording.", content_type="audio/wav"
    )

    response = _consent(owner_openai, upload)

    assert response.status_code == 415
    error = response.json()["error"]
    assert error["param"] == "recording" and "WAV" in error["message"]
    assert _nothing_stored(settings)


def test_a_recording_that_is_too_long_is_422_naming_its_length_and_nothing_is_stored(
    owner_openai, speech_upload, settings
):
    settings.VOICE_SAMPLE_MAX_SECONDS = 3.0

    response = _consent(owner_openai, speech_upload())

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["param"] == "recording" and "long" in error["message"]
    assert _nothing_stored(settings)


def test_a_silent_recording_is_422_saying_so_and_nothing_is_stored(owner_openai, settings):
    silence = wav_bytes(np.zeros(24_000 * 8, dtype=np.float32), 24_000)

    response = _consent(owner_openai, SimpleUploadedFile("consent.wav", silence, content_type="audio/wav"))

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["param"] == "recording" and "speech" in error["message"].lower()
    assert _nothing_stored(settings)


def test_a_recording_over_the_size_cap_is_413_and_nothing_is_stored(owner_openai, speech_upload, settings):
    settings.VOICE_SAMPLE_MAX_BYTES = 1000

    response = _consent(owner_openai, speech_upload())

    assert response.status_code == 413
    assert _nothing_stored(settings)


@pytest.mark.parametrize("language", ["", "english please", "e"])
def test_a_language_that_is_not_a_bcp47_tag_is_a_400(owner_openai, speech_upload, settings, language):
    response = _consent(owner_openai, speech_upload(), language=language)

    assert response.status_code == 400 and response.json()["error"]["param"] == "language"
    assert _nothing_stored(settings)


def test_consents_need_a_key_with_the_voices_scopes(bearer_for, owner, speech_upload):
    reader = bearer_for(owner, ["synthesis:write"])

    assert _consent(reader, speech_upload()).status_code == 403
    assert reader.get("/v1/audio/voice_consents").status_code == 403


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/v1/audio/voice_consents", {"GET", "POST"}),
        ("/v1/audio/voice_consents/x", {"GET", "POST", "DELETE"}),
        ("/v1/audio/voices", {"GET", "POST"}),
        ("/v1/audio/voices/x", {"GET", "DELETE"}),
    ],
)
def test_options_says_what_a_route_allows_and_another_method_is_an_openai_405(anon, owner_openai, path, allowed):
    options = anon.options(path)
    refused = owner_openai.client.put(path, **owner_openai.headers)

    assert options.status_code == 200 and allowed <= {m.strip() for m in options["Allow"].split(",")}
    assert refused.status_code == 405 and refused.json()["error"]["code"] == "method_not_allowed"


def test_a_voice_cloned_under_a_consent_deleted_meanwhile_is_a_404_and_leaves_nothing(
    owner, owner_openai, speech_upload, other_upload, settings, django_capture_on_commit_callbacks
):
    from core.errors import ApiError
    from voices.services.consents import voice_clone_with_consent, voice_consent_delete

    consent = VoiceConsent.objects.get(pk=_consent(owner_openai, speech_upload()).json()["id"])
    stale = VoiceConsent.objects.get(pk=consent.pk)  # what a request read before the deletion
    with django_capture_on_commit_callbacks(execute=True):  # the recording's file goes after the commit
        voice_consent_delete(consent=consent)

    with pytest.raises(ApiError) as gone:
        voice_clone_with_consent(user=owner, name="Too late", sample=other_upload(), consent=stale)

    assert gone.value.status_code == 404
    assert not Voice.objects.filter(name="Too late").exists() and not ConsentRecord.objects.exists()
    assert media_files(settings.MEDIA_ROOT) == []


def test_operators_see_consent_recordings_in_the_admin_read_only(owner_openai, speech_upload, admin_client):
    consent = _consent(owner_openai, speech_upload()).json()

    listing = admin_client.get("/admin/voices/voiceconsent/")
    detail = admin_client.get(f"/admin/voices/voiceconsent/{consent['id']}/change/")

    assert listing.status_code == 200 and consent["id"] in detail.content.decode()
    assert admin_client.post(f"/admin/voices/voiceconsent/{consent['id']}/delete/", {"post": "yes"}).status_code == 403
