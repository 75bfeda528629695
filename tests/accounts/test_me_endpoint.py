from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_me_returns_the_caller_with_the_keys_prefix_and_scopes(owner, owner_api, owner_key):
    body = owner_api.get("/api/v1/me").json()
    assert body["username"] == owner.username
    assert body["auth"] == "api_key"
    assert body["key"]["prefix"] == owner_key.split("_")[1]
    assert set(body["key"]["scopes"]) == {
        "voices:read",
        "voices:write",
        "synthesis:write",
        "keys:manage",
        "webhooks:manage",
    }


def test_me_works_with_the_dashboard_session(owner, client):
    client.force_login(owner)
    body = client.get("/api/v1/me").json()
    assert body["auth"] == "session" and body["key"] is None


def test_a_garbage_bearer_token_gets_401(anon):
    assert anon.get("/api/v1/me", HTTP_AUTHORIZATION="Bearer nope").status_code == 401
