"""GET /v1/models is shared: with `xi-api-key` it answers ElevenLabs' shape (a JSON
array of models), with a Bearer key OpenAI's list (the OpenAI tests keep theirs)."""

from __future__ import annotations

from django.test import Client


def test_an_elevenlabs_caller_gets_an_array_of_the_engines_that_run_here(owner_xi, piper_only):
    models = owner_xi.get("/v1/models").json()
    assert isinstance(models, list)
    assert [m["model_id"] for m in models] == ["piper"]
    piper = models[0]
    assert piper["can_do_text_to_speech"] is True and {"language_id": "en", "name": "en"} in piper["languages"]
    assert piper["maximum_text_length_per_request"] > 0


def test_an_openai_caller_still_gets_openais_list(owner_api):
    body = owner_api.get("/v1/models").json()
    assert body["object"] == "list" and [m["id"] for m in body["data"]] == ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"]


def test_a_wrong_xi_key_gets_elevenlabs_401(db):
    response = Client().get("/v1/models", HTTP_XI_API_KEY="spk_nope_nope")
    assert response.status_code == 401 and response.json()["detail"]["status"] == "invalid_api_key"
