"""The request rate limit answers ElevenLabs clients in their error shape, with
Retry-After (the SDK retries on it), and counts their key's account."""

from __future__ import annotations

from tests.elevenlabs_api.conftest import error_of


def test_past_the_rate_limit_it_is_429_in_elevenlabs_shape(owner_xi, settings):
    settings.RATE_LIMIT_REQUESTS = 2
    assert owner_xi.get("/v1/voices").status_code == 200
    assert owner_xi.get("/v2/voices").status_code == 200
    response = owner_xi.get("/v1/voices")
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1
    assert error_of(response)["status"] == "too_many_requests"


def test_the_budget_is_the_accounts_whichever_header_carries_the_key(owner_xi, owner_api, settings):
    settings.RATE_LIMIT_REQUESTS = 2
    owner_xi.get("/v1/voices")
    owner_api.get("/api/v1/me")
    assert owner_xi.get("/v1/voices").status_code == 429
