"""Creating an API key from the dashboard asks for the password again once the session's
sign-in is older than REAUTHENTICATION_SECONDS; API keys themselves are never asked."""

from __future__ import annotations

import time

import pytest
from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY

from accounts.models import APIKey
from accounts.reauthentication import SIGNED_IN_AT

pytestmark = pytest.mark.django_db


def _age_the_session(client, seconds: float) -> None:  # type: ignore[no-untyped-def]
    session = client.session
    session[SIGNED_IN_AT] = time.time() - seconds
    records = session[AUTHENTICATION_METHODS_SESSION_KEY]  # allauth's: sign-ins and re-authentications
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [{**record, "at": record["at"] - seconds} for record in records]
    session.save()


def test_a_fresh_sign_in_creates_a_key(client, owner):
    client.post("/accounts/login/", {"login": "olivia", "password": "owner-pass-123"})
    assert client.post("/api/v1/keys", {"name": "ci"}, content_type="application/json").status_code == 201


def test_a_stale_session_is_asked_to_sign_in_again_then_creates_the_key(client, owner, settings):
    client.post("/accounts/login/", {"login": "olivia", "password": "owner-pass-123"})
    _age_the_session(client, settings.REAUTHENTICATION_SECONDS + 1)
    refused = client.post("/api/v1/keys", {"name": "ci"}, content_type="application/json")
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "reauthentication_required"
    assert error["details"]["reauthenticate_url"] == "/accounts/reauthenticate/?next=/keys/"
    assert not APIKey.objects.exists()
    wrong = client.post("/accounts/reauthenticate/?next=/keys/", {"password": "not-it"})
    assert wrong.status_code == 200
    back = client.post("/accounts/reauthenticate/?next=/keys/", {"password": "owner-pass-123"})
    assert back["Location"] == "/keys/"
    assert client.post("/api/v1/keys", {"name": "ci"}, content_type="application/json").status_code == 201


def test_an_api_key_mints_keys_without_a_session(owner_api):
    assert owner_api.post("/api/v1/keys", {"name": "ci"}, format="json").status_code == 201


def test_existing_keys_keep_working_after_the_upgrade(owner_api):
    assert owner_api.get("/api/v1/me").json()["auth"] == "api_key"
