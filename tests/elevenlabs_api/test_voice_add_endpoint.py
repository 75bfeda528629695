"""POST /v1/voices/add (instant voice cloning): ElevenLabs' request has no consent
field, so it clones only for an account that accepted the cloning attestation; the
clone's consent record keeps the sample hashes and points to that attestation."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from monitoring.models import AuditEvent
from tests.elevenlabs_api.conftest import error_of
from voices.models import CloningAttestation, ConsentRecord, Voice
from voices.services.attestation import attestation_accept, attestation_revoke

pytestmark = pytest.mark.usefixtures("piper_only")


def add(client, speech_wav: bytes, **fields):  # type: ignore[no-untyped-def]
    data = {
        "name": "Grandma",
        "files": [SimpleUploadedFile("grandma.wav", speech_wav, content_type="audio/wav")],
        **fields,
    }
    return client.post_form("/v1/voices/add", data)


def test_without_the_attestation_it_is_403_saying_where_to_accept(owner_xi, owner, speech_wav):
    response = add(owner_xi, speech_wav)
    assert response.status_code == 403
    detail = error_of(response)
    assert detail["status"] == "cloning_attestation_required"
    assert "/cloning-attestation/" in detail["message"] and "POST /api/v1/cloning-attestation" in detail["message"]
    assert not Voice.objects.owned_by(owner).exists()


def test_with_the_attestation_it_clones_and_records_the_hashes_under_it(owner_xi, owner, speech_wav):
    attestation = attestation_accept(user=owner, via=CloningAttestation.Via.API)
    response = add(
        owner_xi, speech_wav, description="Bedtime stories", labels='{"language": "en", "accent": "british"}'
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["requires_verification"] is False
    voice = Voice.objects.get(pk=body["voice_id"], owner=owner)
    assert (voice.name, voice.description, voice.language) == ("Grandma", "Bedtime stories", "en")
    record = ConsentRecord.objects.get(voice=voice)
    assert record.attestation == attestation
    assert record.sample_sha256 == [hashlib.sha256(speech_wav).hexdigest()]
    consent_event = AuditEvent.objects.get(action="consent.attested", target_id=str(record.pk))
    assert consent_event.details["attestation_id"] == str(attestation.pk)


def test_a_withdrawn_attestation_no_longer_allows_cloning(owner_xi, owner, speech_wav):
    attestation_accept(user=owner, via=CloningAttestation.Via.DASHBOARD)
    attestation_revoke(user=owner)
    assert add(owner_xi, speech_wav).status_code == 403


def test_another_users_attestation_does_not_count(owner_xi, outsider, speech_wav):
    attestation_accept(user=outsider, via=CloningAttestation.Via.API)
    assert add(owner_xi, speech_wav).status_code == 403


def test_a_key_without_voices_write_is_403(owner, xi_for, speech_wav):
    attestation_accept(user=owner, via=CloningAttestation.Via.API)
    response = add(xi_for(owner, ["synthesis:write", "voices:read"]), speech_wav)
    assert response.status_code == 403 and "voices:write" in error_of(response)["message"]


@pytest.mark.parametrize(
    ("fields", "status", "word"),
    [
        ({"labels": "not json"}, 400, "labels"),
        ({"labels": '{"language": "tlh"}'}, 400, "language"),
        ({"name": ""}, 400, "name"),
    ],
)
def test_bad_fields_are_4xx_saying_what(owner_xi, owner, speech_wav, fields, status, word):
    attestation_accept(user=owner, via=CloningAttestation.Via.API)
    response = add(owner_xi, speech_wav, **fields)
    assert response.status_code == status and word in error_of(response)["message"].lower()


def test_no_files_is_400(owner_xi, owner):
    attestation_accept(user=owner, via=CloningAttestation.Via.API)
    response = owner_xi.post_form("/v1/voices/add", {"name": "Empty"})
    assert response.status_code == 400 and "sample" in error_of(response)["message"].lower()


@pytest.mark.parametrize("field", ["name", "description"])
def test_a_nul_in_a_text_field_is_400_naming_the_field_and_clones_nothing(owner_xi, owner, speech_wav, field):
    # PostgreSQL text cannot hold NUL: it reached the insert and answered 500 (DataError).
    attestation_accept(user=owner, via=CloningAttestation.Via.API)
    response = add(owner_xi, speech_wav, **{field: "Grand\x00ma"})
    assert response.status_code == 400, response.content
    assert error_of(response)["message"].startswith(f"{field} contains a NUL character")
    assert not Voice.objects.owned_by(owner).exists()


@pytest.mark.parametrize(
    ("labels", "word"),
    [('{"a": ' * 5000 + "1" + "}" * 5000, "nested too deeply"), ('{"accent": "brit\\u0000ish"}', "NUL")],
    ids=["nested-5000-deep", "nul-in-a-value"],
)
def test_labels_are_read_by_the_one_json_reader(owner_xi, owner, speech_wav, labels, word):
    # Nested 5 000 deep, plain json.loads raised RecursionError: a 500.
    attestation_accept(user=owner, via=CloningAttestation.Via.API)
    response = add(owner_xi, speech_wav, labels=labels)
    assert response.status_code == 400, response.content[:300]
    message = error_of(response)["message"]
    assert message.startswith("labels must be a JSON object") and word in message
    assert not Voice.objects.owned_by(owner).exists()
