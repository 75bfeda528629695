"""GET /v1/voices and GET /v1/voices/{voice_id}: the built-in voices and the caller's
own, in ElevenLabs' voice shape; another user's voice is a 404."""

from __future__ import annotations

import uuid

import pytest

from tests.elevenlabs_api.conftest import error_of
from voices.models import Voice


@pytest.fixture
def olivias_voice(owner) -> Voice:
    return Voice.objects.create(
        owner=owner, name="Grandma", language="en", engine="xtts", status=Voice.Status.PENDING_ENGINE
    )


@pytest.fixture
def oscars_voice(outsider) -> Voice:
    return Voice.objects.create(owner=outsider, name="Secret", language="en", engine="xtts", status=Voice.Status.READY)


def test_the_list_has_the_built_in_voices_and_mine_but_not_others(owner_xi, olivias_voice, oscars_voice):
    voices = owner_xi.get("/v1/voices").json()["voices"]
    by_id = {v["voice_id"]: v for v in voices}
    joe = next(v for v in voices if v["name"] == "joe")
    assert joe["category"] == "premade" and joe["is_owner"] is False
    mine = by_id[str(olivias_voice.pk)]
    assert mine["category"] == "cloned" and mine["is_owner"] is True and mine["labels"]["status"] == "pending_engine"
    assert str(oscars_voice.pk) not in by_id


def test_one_voice_by_id(owner_xi, olivias_voice):
    voice = owner_xi.get(f"/v1/voices/{olivias_voice.pk}").json()
    assert voice["voice_id"] == str(olivias_voice.pk) and voice["name"] == "Grandma"


def test_another_users_voice_is_404(owner_xi, oscars_voice):
    response = owner_xi.get(f"/v1/voices/{oscars_voice.pk}")
    assert response.status_code == 404 and error_of(response)["status"] == "not_found"


@pytest.mark.parametrize("ref", ["not-a-uuid", str(uuid.uuid4())])
def test_an_unknown_voice_is_404(owner_xi, ref):
    assert owner_xi.get(f"/v1/voices/{ref}").status_code == 404
