"""POST /api/v1/voices: clone a voice from consented samples."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf
from django.conf import settings

from monitoring.models import AuditEvent
from speech.text import EMOTIONS
from voices.models import CONSENT_STATEMENT, ConsentRecord, Voice, VoiceSample
from voices.services import voice_create

from .conftest import media_files

pytestmark = pytest.mark.usefixtures("piper_only_engines")


def test_it_creates_a_clone_that_waits_for_the_missing_engine(create_voice, owner) -> None:
    response = create_voice(description="Reading bedtime stories")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["name"] == "Grandma"
    assert body["language"] == "en"
    assert body["engine"] == "xtts"
    assert body["is_builtin"] is False
    assert body["status"] == "pending_engine"
    assert "xtts" in body["status_message"] and "not available" in body["status_message"]
    voice = Voice.objects.get(pk=body["id"])
    assert voice.owner == owner
    assert voice.samples_version == 1
    assert voice.conditioning is None


def test_it_stores_a_normalised_mono_16_bit_wav_under_a_server_made_name(create_voice) -> None:
    body = create_voice().json()

    sample = VoiceSample.objects.get(voice_id=body["id"])
    assert sample.file == f"voices/{body['id']}/{sample.id}.wav"
    path = Path(settings.MEDIA_ROOT) / sample.file
    info = sf.info(str(path))
    assert (info.format, info.subtype, info.channels, info.samplerate) == ("WAV", "PCM_16", 1, 24000)
    assert sample.duration_seconds == pytest.approx(info.frames / 24000, abs=0.01)
    assert sample.original_format == "wav/pcm_16"
    assert sample.original_name == "speech.wav"
    assert media_files(settings.MEDIA_ROOT) == [path]


def test_it_records_the_consent_with_who_when_where_and_each_sample_hash(create_voice, owner) -> None:
    response = create_voice()
    sample = VoiceSample.objects.get(voice_id=response.json()["id"])

    record = ConsentRecord.objects.get()
    assert record.user == owner
    assert record.voice_id == sample.voice_id
    assert record.statement == CONSENT_STATEMENT
    assert record.sample_sha256 == [sample.sha256]
    assert record.ip == "127.0.0.1"
    assert sample.consent == record


def test_the_consent_names_the_callers_user_agent_and_api_key(create_voice, owner_api, owner_key: str) -> None:
    owner_api.credentials(HTTP_AUTHORIZATION=f"Bearer {owner_key}", HTTP_USER_AGENT="speaker-cli/1.0")

    assert create_voice(owner_api).status_code == 201

    record = ConsentRecord.objects.get()
    assert record.user_agent == "speaker-cli/1.0"
    assert record.api_key_prefix == owner_key.split("_")[1]


def test_a_voice_created_outside_a_request_has_consent_with_no_address_agent_or_key(
    piper_only_engines, owner, speech_upload
) -> None:
    voice_create(user=owner, name="Grandma", language="en", samples=[speech_upload()], consent=True)

    record = ConsentRecord.objects.get()
    assert (record.ip, record.user_agent, record.api_key_prefix) == (None, "", "")
    assert record.user == owner


def test_it_audits_consent_voice_creation_and_each_sample(create_voice) -> None:
    body = create_voice().json()
    sample = VoiceSample.objects.get(voice_id=body["id"])

    actions = list(
        AuditEvent.objects.exclude(action__startswith="api_key.").order_by("id").values_list("action", flat=True)
    )
    assert actions == ["consent.attested", "sample.uploaded", "voice.created"]
    uploaded = AuditEvent.objects.get(action="sample.uploaded")
    assert uploaded.details["sha256"] == sample.sha256
    assert AuditEvent.objects.get(action="voice.created").target_id == body["id"]


def test_it_rejects_a_clone_without_consent(create_voice) -> None:
    response = create_voice(consent="false")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "consent=true is required" in error["details"]["consent"][0]
    assert not Voice.objects.filter(is_builtin=False).exists()
    assert media_files(settings.MEDIA_ROOT) == []


def test_it_rejects_a_clone_with_the_consent_field_missing(owner_api, speech_upload) -> None:
    response = owner_api.post(
        "/api/v1/voices", {"name": "Grandma", "language": "en", "samples": [speech_upload()]}, format="multipart"
    )

    assert response.status_code == 400
    assert "consent" in response.json()["error"]["details"]
    assert not ConsentRecord.objects.exists()


def test_it_rejects_a_language_the_cloning_engine_does_not_speak(create_voice) -> None:
    response = create_voice(language="tlh")

    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert "language" in details and "zh-cn" in details["language"][0]


def test_it_accepts_every_xtts_language(create_voice) -> None:
    from speech.engines.xtts_engine import XTTSEngine

    assert create_voice(language="zh-cn").json()["language"] == "zh-cn"
    assert len(XTTSEngine.languages) == 17


def test_it_rejects_a_request_without_samples(owner_api) -> None:
    response = owner_api.post(
        "/api/v1/voices", {"name": "Grandma", "language": "en", "consent": "true"}, format="multipart"
    )

    assert response.status_code == 400
    assert "samples" in response.json()["error"]["details"]


def test_it_stores_one_emotion_label_per_sample_in_order(create_voice, speech_upload, other_upload) -> None:
    response = create_voice(samples=[speech_upload(), other_upload()], emotions=["happy", "sad"])

    assert response.status_code == 201, response.json()
    by_name = {s["original_name"]: s["emotion"] for s in response.json()["samples"]}
    assert by_name == {"speech.wav": "happy", "other.wav": "sad"}


def test_it_rejects_an_unknown_emotion_label(create_voice) -> None:
    response = create_voice(emotions=["furious"])

    assert response.status_code == 400
    assert "emotions" in response.json()["error"]["details"]


@pytest.mark.parametrize("label", ["Happy", " happy", "happy,", "", "0"])
def test_it_accepts_only_the_emotion_labels_the_schema_lists_spelled_exactly(create_voice, label) -> None:
    response = create_voice(emotions=[label])

    assert response.status_code == 400, response.json()
    assert "emotions" in response.json()["error"]["details"]
    assert not Voice.objects.filter(is_builtin=False).exists()


def test_it_takes_one_label_per_field_not_a_comma_separated_list(create_voice, speech_upload, other_upload) -> None:
    response = create_voice(samples=[speech_upload(), other_upload()], emotions=["happy,sad"])

    assert response.status_code == 400, response.json()
    assert "emotions" in response.json()["error"]["details"]


def test_the_schema_lists_the_emotion_labels_as_an_enum_of_the_items(client) -> None:
    schema = client.get("/openapi.json").json()
    body = schema["paths"]["/api/v1/voices"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    properties = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[-1]]["properties"]

    items = properties["emotions"]["items"]
    label = schema["components"]["schemas"][items["$ref"].rsplit("/", 1)[-1]]

    assert (label["type"], label["enum"]) == ("string", list(EMOTIONS))


def test_it_refuses_a_count_of_emotions_that_does_not_match_the_samples_with_422(create_voice) -> None:
    response = create_voice(emotions=["happy", "sad"])

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unprocessable"
    assert "emotions" in response.json()["error"]["details"]


def test_it_answers_400_for_more_samples_than_a_voice_may_have(create_voice, speech_upload, settings) -> None:
    settings.VOICE_MAX_SAMPLES = 1

    response = create_voice(samples=[speech_upload("a.wav"), speech_upload("b.wav")])

    assert response.status_code == 400
    assert "samples" in response.json()["error"]["details"]
    assert media_files(settings.MEDIA_ROOT) == []


def test_it_rejects_the_same_sample_twice_and_keeps_nothing(create_voice, speech_upload, settings) -> None:
    response = create_voice(samples=[speech_upload("a.wav"), speech_upload("b.wav")])

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert not VoiceSample.objects.exists()
    assert media_files(settings.MEDIA_ROOT) == []


def test_it_answers_409_when_the_name_is_already_one_of_your_voices(create_voice, other_upload) -> None:
    assert create_voice().status_code == 201

    response = create_voice(name="grandma", samples=[other_upload()])

    assert response.status_code == 409
    assert Voice.objects.filter(is_builtin=False).count() == 1


def test_it_lets_another_user_use_the_same_name(create_voice, outsider_api, speech_upload) -> None:
    assert create_voice().status_code == 201
    assert create_voice(outsider_api, samples=[speech_upload()]).status_code == 201


def test_it_needs_the_voices_write_scope(create_voice, api_for, owner) -> None:
    response = create_voice(api_for(owner, ["voices:read"]))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_it_refuses_anonymous_callers(create_voice, anon) -> None:
    assert create_voice(anon).status_code == 401


def test_it_queues_the_voice_and_wakes_the_worker_when_a_cloning_engine_is_available(
    tiny_xtts_engines, create_voice, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    woken: list[bool] = []
    monkeypatch.setattr("core.wakeup.wake_worker", lambda: woken.append(True))

    with django_capture_on_commit_callbacks(execute=True):
        response = create_voice()

    assert response.status_code == 201
    assert response.json()["status"] == "processing"
    assert woken == [True]
