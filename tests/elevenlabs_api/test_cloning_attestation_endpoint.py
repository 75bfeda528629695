"""GET/POST/DELETE /api/v1/cloning-attestation (Speaker's own API): the account's
standing attestation that cloning through the ElevenLabs-compatible API needs, stored
with its date and who accepted it from where, and in the audit log."""

from __future__ import annotations

from monitoring.models import AuditEvent
from voices.models import CLONING_ATTESTATION_STATEMENT, CloningAttestation

URL = "/api/v1/cloning-attestation"


def test_it_starts_not_accepted_and_shows_the_statement(owner_api):
    body = owner_api.get(URL).json()
    assert body["accepted"] is False and body["accepted_at"] is None
    assert body["statement"] == CLONING_ATTESTATION_STATEMENT


def test_accepting_stores_who_when_where_and_audits_it(owner_api, owner, owner_key):
    response = owner_api.post(URL, {"accept": True}, format="json", HTTP_USER_AGENT="attest-test/1.0")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["accepted"] is True and body["via"] == "api" and body["accepted_at"]
    record = CloningAttestation.objects.get(pk=body["id"])
    assert record.user == owner and record.statement == CLONING_ATTESTATION_STATEMENT
    assert record.user_agent == "attest-test/1.0"
    assert record.api_key_prefix and owner_key.startswith(f"spk_{record.api_key_prefix}_")
    event = AuditEvent.objects.get(action="cloning_attestation.accepted")
    assert event.target_id == str(record.pk) and event.user == owner


def test_accepting_again_keeps_the_first_date(owner_api):
    first = owner_api.post(URL, {"accept": True}, format="json").json()
    again = owner_api.post(URL, {"accept": True}, format="json")
    assert again.status_code == 200 and again.json()["accepted_at"] == first["accepted_at"]
    assert CloningAttestation.objects.count() == 1


def test_accept_must_be_true(owner_api):
    response = owner_api.post(URL, {"accept": False}, format="json")
    assert response.status_code == 400 and "accept" in response.json()["error"]["message"]
    assert not CloningAttestation.objects.exists()


def test_withdrawing_keeps_the_row_as_evidence_and_audits_it(owner_api, owner):
    accepted = owner_api.post(URL, {"accept": True}, format="json").json()
    assert owner_api.delete(URL).status_code == 204
    assert owner_api.get(URL).json()["accepted"] is False
    assert CloningAttestation.objects.get(pk=accepted["id"]).revoked_at is not None
    assert AuditEvent.objects.filter(action="cloning_attestation.revoked", target_id=accepted["id"]).exists()


def test_one_accounts_attestation_is_not_anothers(owner_api, outsider_api):
    owner_api.post(URL, {"accept": True}, format="json")
    assert outsider_api.get(URL).json()["accepted"] is False


def test_accepting_needs_voices_write(owner, api_for):
    assert api_for(owner, ["voices:read"]).post(URL, {"accept": True}, format="json").status_code == 403
    assert api_for(owner, ["voices:read"]).get(URL).status_code == 200
