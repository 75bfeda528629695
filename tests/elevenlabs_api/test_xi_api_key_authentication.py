"""`xi-api-key: <Speaker key>` authenticates the ElevenLabs-compatible routes; scopes
apply; failures come in ElevenLabs' error shape."""

from __future__ import annotations

from django.test import Client
from django.utils import timezone

from accounts.models import APIKey
from tests.elevenlabs_api.conftest import error_of


def test_no_key_is_401_naming_the_header(db):
    response = Client().get("/v1/voices")
    assert response.status_code == 401
    assert "xi-api-key" in error_of(response)["message"]


def test_a_wrong_key_is_401(db):
    response = Client().get("/v1/voices", HTTP_XI_API_KEY="spk_nope_nope")
    assert response.status_code == 401 and error_of(response)["status"] == "invalid_api_key"


def test_a_revoked_key_is_401(owner, make_key):
    key = make_key(owner)
    APIKey.objects.filter(user=owner).update(revoked_at=timezone.now())
    assert Client().get("/v1/voices", HTTP_XI_API_KEY=key).status_code == 401


def test_a_speaker_key_in_xi_api_key_works(owner_xi):
    assert owner_xi.get("/v1/voices").status_code == 200


def test_a_key_without_the_scope_is_403(owner, xi_for):
    read_only = xi_for(owner, ["voices:read"])
    response = read_only.post_json("/v1/text-to-speech/joe", {"text": "Hello"})
    assert response.status_code == 403
    assert "synthesis:write" in error_of(response)["message"]


def test_speakers_own_api_accepts_the_header_too(owner_xi):
    assert owner_xi.get("/api/v1/me").status_code == 200


def test_browsers_may_send_xi_api_key_cross_origin(db, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example"]
    response = Client().options(
        "/v2/voices",
        HTTP_ORIGIN="https://app.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="xi-api-key",
    )
    assert response["Access-Control-Allow-Origin"] == "https://app.example"
    assert "xi-api-key" in response["Access-Control-Allow-Headers"]
