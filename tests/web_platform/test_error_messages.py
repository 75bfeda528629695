"""An error's `message` says what went wrong: a client that shows only the message (most
do) tells its user which field is wrong and why, not "Invalid input."."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]


def test_a_missing_voice_is_named_in_the_message(owner_api):
    response = owner_api.post("/api/v1/synthesis", {"text": "Hello."}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == "voice: This field is required."
    assert error["details"] == {"voice": ["This field is required."]}


def test_an_unknown_format_is_named_in_the_message(owner_api):
    response = owner_api.post("/api/v1/synthesis", {"text": "Hello.", "voice": "joe", "format": "m4a"}, format="json")

    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert message.startswith("format: ") and "m4a" in message


def test_several_problems_are_all_named(owner_api):
    response = owner_api.post("/api/v1/synthesis", {"format": "m4a"}, format="json")

    message = response.json()["error"]["message"]
    assert (
        "text: This field is required." in message
        and "voice: This field is required." in message
        and "format: " in message
    )


def test_a_nested_problem_is_named_by_its_path(owner_api):
    response = owner_api.post("/api/v1/synthesis", {"text": "Hello.", "voice": "joe", "params": "fast"}, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("params: ")


def test_missing_consent_says_so(owner_api):
    response = owner_api.post("/api/v1/voices", {"name": "Grandma", "language": "en"}, format="multipart")

    assert response.status_code == 400
    assert "consent" in response.json()["error"]["message"]


def test_a_key_without_bearer_gets_a_hint(owner_api, owner_key, anon):
    response = anon.get("/api/v1/voices", HTTP_AUTHORIZATION=owner_key)

    assert response.status_code == 401
    message = response.json()["error"]["message"]
    assert "Bearer" in message and "X-API-Key" in message


def test_a_key_under_another_scheme_gets_the_hint_too(owner_key, anon):
    response = anon.get("/api/v1/voices", HTTP_AUTHORIZATION=f"Token {owner_key}")

    assert response.status_code == 401 and "Bearer" in response.json()["error"]["message"]


def test_an_unrelated_authorization_header_gets_no_hint(anon):
    response = anon.get("/api/v1/voices", HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")

    assert response.status_code == 401 and "Bearer <your key>" not in response.json()["error"]["message"]
