"""GET /v1/audio/voices and GET /v1/models: OpenAI's voice names (an alias table,
OPENAI_VOICE_ALIASES) and every voice the caller can use, in OpenAI's list shape."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.env import env_mapping
from voices.models import Voice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]

OPENAI_VOICES = {
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "nova",
    "onyx",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
}


def test_openais_thirteen_voices_are_listed_as_aliases_of_a_builtin_voice(owner_api):
    response = owner_api.get("/v1/audio/voices")

    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list"
    aliases = {entry["id"]: entry["alias_of"] for entry in body["data"] if entry["alias_of"]}
    assert set(aliases) == OPENAI_VOICES and set(aliases.values()) == {"joe"}
    assert "joe" in body["voices"] and OPENAI_VOICES <= set(body["voices"])


def test_your_own_ready_voices_are_listed_and_nobody_elses(owner_api, owner, outsider):
    Voice.objects.create(owner=owner, name="Grandma", language="en", engine="xtts", status="ready")
    Voice.objects.create(owner=outsider, name="Secret", language="en", engine="xtts", status="ready")

    names = owner_api.get("/v1/audio/voices").json()["voices"]

    assert "Grandma" in names and "Secret" not in names


def test_the_alias_table_comes_from_settings(owner_api, settings):
    settings.OPENAI_VOICE_ALIASES = {"nova": "piper:joe"}

    entries = owner_api.get("/v1/audio/voices").json()["data"]

    assert [(e["id"], e["alias_of"]) for e in entries if e["alias_of"]] == [("nova", "piper:joe")]


def test_models_list_the_three_models_with_their_voices(owner_api):
    response = owner_api.get("/v1/models")

    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list"
    assert [model["id"] for model in body["data"]] == ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"]
    assert all(model["object"] == "model" and isinstance(model["created"], int) for model in body["data"])
    assert OPENAI_VOICES <= set(body["data"][0]["voices"])


@pytest.mark.parametrize("path", ["/v1/audio/voices", "/v1/models"])
def test_listing_needs_an_api_key_in_openais_error_shape(anon, path):
    response = anon.get(path)

    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"


def test_the_alias_variable_reads_name_equals_voice(monkeypatch):
    monkeypatch.setenv("OPENAI_VOICE_ALIASES", "Nova=xtts:Ana Florence, onyx=joe,alloy=")

    assert env_mapping("OPENAI_VOICE_ALIASES", {}) == {"nova": "xtts:Ana Florence", "onyx": "joe", "alloy": ""}


def test_a_malformed_alias_variable_fails_loudly(monkeypatch):
    monkeypatch.setenv("OPENAI_VOICE_ALIASES", "nova")

    with pytest.raises(ImproperlyConfigured, match="OPENAI_VOICE_ALIASES"):
        env_mapping("OPENAI_VOICE_ALIASES", {})


def test_instructions_longer_than_openais_limit_are_a_400(owner_api):
    response = owner_api.post(
        "/v1/audio/speech",
        {"model": "gpt-4o-mini-tts", "voice": "joe", "input": "Hi.", "instructions": "calm " * 1000},
        format="json",
    )

    assert response.status_code == 400 and response.json()["error"]["param"] == "instructions"
