"""voices.selectors.voice_resolve_for_synthesis: which voice a synthesis request names."""

from __future__ import annotations

import pytest
from django.http import Http404

from core.errors import Conflict
from voices.models import Voice
from voices.selectors import voice_resolve_for_synthesis


def clone(owner, name: str = "Grandma", status: str = "ready", **fields) -> Voice:  # type: ignore[no-untyped-def]
    return Voice.objects.create(owner=owner, name=name, language="en", engine="xtts", status=status, **fields)


def test_it_resolves_a_builtin_by_name(piper_only_engines, owner) -> None:
    voice = voice_resolve_for_synthesis(user=owner, ref="joe")

    assert voice.is_builtin and voice.builtin_key == "joe"


def test_it_resolves_a_builtin_by_engine_and_name(piper_only_engines, owner) -> None:
    assert voice_resolve_for_synthesis(user=owner, ref="piper:joe").builtin_key == "joe"


def test_it_resolves_a_builtin_by_id(piper_only_engines, owner) -> None:
    joe = Voice.objects.get(builtin_key="joe")

    assert voice_resolve_for_synthesis(user=owner, ref=str(joe.pk)) == joe


def test_it_resolves_your_own_ready_voice_by_id_or_by_name_in_any_case(tiny_xtts_engines, owner) -> None:
    voice = clone(owner, conditioning=b"latents", conditioning_engine="xtts")

    assert voice_resolve_for_synthesis(user=owner, ref=str(voice.pk)) == voice
    assert voice_resolve_for_synthesis(user=owner, ref="  grandma ") == voice
    assert bytes(voice_resolve_for_synthesis(user=owner, ref="GRANDMA").conditioning) == b"latents"


@pytest.mark.parametrize("ref", ["nobody", "", "00000000-0000-0000-0000-000000000000"])
def test_an_unknown_voice_is_404(piper_only_engines, owner, ref: str) -> None:
    with pytest.raises(Http404):
        voice_resolve_for_synthesis(user=owner, ref=ref)


def test_another_users_voice_is_404_by_id_and_by_name(tiny_xtts_engines, owner, outsider) -> None:
    voice = clone(owner)

    with pytest.raises(Http404):
        voice_resolve_for_synthesis(user=outsider, ref=str(voice.pk))
    with pytest.raises(Http404):
        voice_resolve_for_synthesis(user=outsider, ref="Grandma")


def test_a_clone_waiting_for_a_missing_engine_is_409_naming_the_engine(piper_only_engines, owner) -> None:
    voice = clone(owner, status="pending_engine")

    with pytest.raises(Conflict) as caught:
        voice_resolve_for_synthesis(user=owner, ref=str(voice.pk))

    assert caught.value.status_code == 409
    assert "Voice cloning needs the xtts engine, which is not available here" in caught.value.message
    assert caught.value.details["engine"] == "xtts"


def test_a_ready_clone_is_409_when_its_engine_is_missing_here(piper_only_engines, owner) -> None:
    voice = clone(owner, conditioning=b"latents", conditioning_engine="xtts")

    with pytest.raises(Conflict) as caught:
        voice_resolve_for_synthesis(user=owner, ref=str(voice.pk))

    assert "xtts engine" in caught.value.message


@pytest.mark.parametrize("status,words", [("processing", "still being prepared"), ("failed", "could not be prepared")])
def test_a_clone_that_is_not_ready_is_409(tiny_xtts_engines, owner, status: str, words: str) -> None:
    voice = clone(owner, status=status, status_message="too noisy")

    with pytest.raises(Conflict) as caught:
        voice_resolve_for_synthesis(user=owner, ref=str(voice.pk))

    assert words in caught.value.message


def test_builtin_voices_keep_working_without_a_cloning_engine(piper_only_engines, owner) -> None:
    clone(owner, status="pending_engine")

    assert voice_resolve_for_synthesis(user=owner, ref="joe").engine == "piper"


def test_the_synthesis_api_answers_409_not_500_for_a_pending_clone(piper_only_engines, owner, owner_api) -> None:
    voice = clone(owner, status="pending_engine")

    response = owner_api.post(
        "/api/v1/synthesis", {"text": "Hello.", "voice": str(voice.pk), "language": "en"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert "xtts" in response.json()["error"]["message"]
