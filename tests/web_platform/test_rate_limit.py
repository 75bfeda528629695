"""RATE_LIMIT_REQUESTS per RATE_LIMIT_WINDOW, per key/user, per IP for anonymous callers."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limit_of_five(settings):
    settings.RATE_LIMIT_REQUESTS = 5
    settings.RATE_LIMIT_WINDOW = 60


def test_the_sixth_request_gets_429_with_retry_after(owner_api):
    statuses = [owner_api.get("/api/v1/me").status_code for _ in range(5)]
    assert statuses == [200] * 5
    limited = owner_api.get("/api/v1/me")
    assert limited.status_code == 429
    retry_after = int(limited["Retry-After"])
    assert retry_after >= 1 and retry_after <= 60
    assert limited.json()["error"]["code"] == "rate_limited"


def test_responses_carry_limit_and_remaining_headers(owner_api):
    first = owner_api.get("/api/v1/me")
    second = owner_api.get("/api/v1/me")
    assert first["X-RateLimit-Limit"] == "5"
    assert (first["X-RateLimit-Remaining"], second["X-RateLimit-Remaining"]) == ("4", "3")


def test_each_key_has_its_own_budget(owner_api, outsider_api):
    for _ in range(5):
        owner_api.get("/api/v1/me")
    assert owner_api.get("/api/v1/me").status_code == 429
    assert outsider_api.get("/api/v1/me").status_code == 200


def test_anonymous_callers_are_limited_per_ip(anon):
    for _ in range(5):
        anon.get("/api/v1/me", REMOTE_ADDR="203.0.113.7")
    assert anon.get("/api/v1/me", REMOTE_ADDR="203.0.113.7").status_code == 429
    assert anon.get("/api/v1/me", REMOTE_ADDR="203.0.113.8").status_code == 401
