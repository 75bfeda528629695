"""GET /api/v1/voices: built-in voices for everyone plus the caller's own."""

from __future__ import annotations

import pytest

from voices.models import Voice

pytestmark = pytest.mark.usefixtures("piper_only_engines")


def make_clone(owner, name: str, language: str = "en") -> Voice:  # type: ignore[no-untyped-def]
    return Voice.objects.create(owner=owner, name=name, language=language, engine="xtts", status="pending_engine")


def test_it_lists_the_builtin_voices_for_a_user_with_no_voices(owner_api) -> None:
    response = owner_api.get("/api/v1/voices")

    assert response.status_code == 200
    results = response.json()["results"]
    joe = next(v for v in results if v["builtin_key"] == "joe")
    assert joe["is_builtin"] is True
    assert joe["engine"] == "piper"
    assert joe["status"] == "ready"
    assert joe["samples"] == []


def test_it_lists_builtins_first_then_the_callers_own_voices(owner_api, owner, outsider) -> None:
    make_clone(owner, "Grandma")
    make_clone(outsider, "Oscar's secret voice")

    names = [v["name"] for v in owner_api.get("/api/v1/voices").json()["results"]]

    assert names == ["joe", "Grandma"]


def test_it_filters_by_language(owner_api, owner) -> None:
    make_clone(owner, "Abuela", language="es")
    make_clone(owner, "Grandma", language="en")

    names = [v["name"] for v in owner_api.get("/api/v1/voices", {"language": "es"}).json()["results"]]

    assert names == ["Abuela"]


def test_it_filters_by_engine(owner_api, owner) -> None:
    make_clone(owner, "Grandma")

    piper = [v["name"] for v in owner_api.get("/api/v1/voices", {"engine": "piper"}).json()["results"]]
    xtts = [v["name"] for v in owner_api.get("/api/v1/voices", {"engine": "xtts"}).json()["results"]]

    assert piper == ["joe"]
    assert xtts == ["Grandma"]


def test_it_paginates(owner_api, owner) -> None:
    for index in range(3):
        make_clone(owner, f"Voice {index}")

    first = owner_api.get("/api/v1/voices", {"page_size": 2}).json()
    second = owner_api.get("/api/v1/voices", {"page_size": 2, "page": 2}).json()

    assert first["count"] == 4
    assert len(first["results"]) == 2 and first["next"]
    assert [v["name"] for v in second["results"]] == ["Voice 1", "Voice 2"]
    assert second["next"] is None


def test_it_never_sends_conditioning_bytes(owner_api, owner) -> None:
    voice = make_clone(owner, "Grandma")
    Voice.objects.filter(pk=voice.pk).update(conditioning=b"secret-latents", status="ready")

    body = owner_api.get("/api/v1/voices").content

    assert b'conditioning"' not in body.replace(b"conditioned_at", b"")
    assert b"secret-latents" not in body


def test_it_works_with_a_read_only_key(api_for, owner) -> None:
    assert api_for(owner, ["voices:read"]).get("/api/v1/voices").status_code == 200


def test_it_needs_the_voices_read_scope(api_for, owner) -> None:
    response = api_for(owner, ["synthesis:write"]).get("/api/v1/voices")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_it_refuses_anonymous_callers(anon) -> None:
    response = anon.get("/api/v1/voices")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
