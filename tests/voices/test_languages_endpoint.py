"""GET /api/v1/languages: languages per engine, with each engine's availability."""

from __future__ import annotations

import pytest

from speech.engines.xtts_engine import XTTSEngine


def test_it_lists_each_engine_with_its_availability_and_languages(piper_only_engines, owner_api) -> None:
    body = owner_api.get("/api/v1/languages").json()

    engines = {e["name"]: e for e in body["engines"]}
    assert engines["piper"] == {
        "name": "piper",
        "available": True,
        "reason": None,
        "languages": ["en"],
        "clones": False,
    }
    assert engines["xtts"]["available"] is False
    assert "not enabled" in engines["xtts"]["reason"]
    assert engines["xtts"]["clones"] is True
    assert engines["xtts"]["languages"] == list(XTTSEngine.languages)
    assert body["clone_languages"] == list(XTTSEngine.languages)


def test_it_shows_xtts_available_when_its_checkpoint_is_there(tiny_xtts_engines, owner_api) -> None:
    engines = {e["name"]: e for e in owner_api.get("/api/v1/languages").json()["engines"]}

    assert engines["xtts"]["available"] is True
    assert engines["xtts"]["reason"] is None
    assert len(engines["xtts"]["languages"]) == 17


def test_it_is_open_when_api_keys_are_not_required(piper_only_engines, anon, settings) -> None:
    settings.API_KEY_REQUIRED = False

    assert anon.get("/api/v1/languages").status_code == 200


@pytest.mark.django_db
def test_it_needs_credentials_when_api_keys_are_required(piper_only_engines, anon, settings) -> None:
    settings.API_KEY_REQUIRED = True

    response = anon.get("/api/v1/languages")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
