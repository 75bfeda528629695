"""The rate limit is per account: every API key of a user and their dashboard session
share one budget (six keys used to get six budgets), anonymous callers stay per IP.
Run on the local-memory cache and, with REDIS_URL, on the real Redis cache that
production shares between processes."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limit_of_five(settings):
    settings.RATE_LIMIT_REQUESTS = 5
    settings.RATE_LIMIT_WINDOW = 60


@pytest.fixture(params=["configured", pytest.param("redis", marks=pytest.mark.redis)])
def cache_backend(request, settings):  # type: ignore[no-untyped-def]
    """The configured cache, and the real Redis cache (skipped without REDIS_URL)."""
    if request.param == "redis":
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": settings.REDIS_URL}
        }
    caches["default"].clear()
    yield request.param
    caches["default"].clear()


def _with_key(plaintext: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def test_six_keys_of_one_user_share_one_budget(cache_backend, owner, make_key):
    clients = [_with_key(make_key(owner, name=f"key-{n}")) for n in range(6)]
    statuses = [clients[n % 6].get("/api/v1/me").status_code for n in range(12)]
    assert statuses == [200] * 5 + [429] * 7


def test_the_session_and_the_keys_of_one_user_share_one_budget(cache_backend, owner, make_key):
    session = APIClient()
    session.force_login(owner)
    keyed = _with_key(make_key(owner))
    for _ in range(3):
        assert session.get("/api/v1/me").status_code == 200
    assert [keyed.get("/api/v1/me").status_code for _ in range(3)] == [200, 200, 429]
    assert session.get("/api/v1/me").status_code == 429


def test_another_user_keeps_their_own_budget(cache_backend, owner, outsider, make_key):
    for n in range(5):
        _with_key(make_key(owner, name=f"k{n}")).get("/api/v1/me")
    assert _with_key(make_key(owner, name="fresh")).get("/api/v1/me").status_code == 429
    assert _with_key(make_key(outsider)).get("/api/v1/me").status_code == 200


def test_anonymous_callers_are_still_counted_per_ip(cache_backend, anon):
    for _ in range(5):
        anon.get("/api/v1/me", REMOTE_ADDR="203.0.113.7")
    assert anon.get("/api/v1/me", REMOTE_ADDR="203.0.113.7").status_code == 429
    assert anon.get("/api/v1/me", REMOTE_ADDR="203.0.113.9").status_code == 401
