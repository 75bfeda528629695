"""A voice's default generation parameters: PATCH /api/v1/voices/{id} `settings`, and
how a job's parameters are resolved from them (synthesis.services.job_params_resolve)."""

from __future__ import annotations

import pytest

from monitoring.models import AuditEvent
from synthesis.services import job_params_resolve
from voices.models import Voice

pytestmark = pytest.mark.usefixtures("piper_only_engines")


@pytest.fixture
def voice_id(create_voice) -> str:  # type: ignore[no-untyped-def]
    response = create_voice()
    assert response.status_code == 201
    return response.json()["id"]


def test_a_new_voice_has_no_settings_of_its_own(owner_api, voice_id) -> None:
    assert owner_api.get(f"/api/v1/voices/{voice_id}").json()["settings"] == {}


def test_the_owner_sets_default_parameters_and_reads_them_back(owner_api, voice_id) -> None:
    response = owner_api.patch(
        f"/api/v1/voices/{voice_id}",
        {"settings": {"speed": 1.2, "temperature": 0.6, "top_k": 30, "seed": 7}},
        format="json",
    )

    assert response.status_code == 200, response.json()
    assert response.json()["settings"] == {"speed": 1.2, "temperature": 0.6, "top_k": 30, "seed": 7}
    assert owner_api.get(f"/api/v1/voices/{voice_id}").json()["settings"]["seed"] == 7
    assert AuditEvent.objects.filter(action="voice.updated", target_id=voice_id).exists()


def test_settings_are_a_merge_patch_where_null_removes_a_key(owner_api, voice_id) -> None:
    owner_api.patch(f"/api/v1/voices/{voice_id}", {"settings": {"speed": 1.2, "temperature": 0.6}}, format="json")

    response = owner_api.patch(f"/api/v1/voices/{voice_id}", {"settings": {"speed": None, "top_p": 0.5}}, format="json")

    assert response.json()["settings"] == {"temperature": 0.6, "top_p": 0.5}


def test_a_rename_keeps_the_settings(owner_api, voice_id) -> None:
    owner_api.patch(f"/api/v1/voices/{voice_id}", {"settings": {"speed": 0.8}}, format="json")

    response = owner_api.patch(f"/api/v1/voices/{voice_id}", {"name": "Nana"}, format="json")

    assert response.json()["settings"] == {"speed": 0.8}


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"speed": 10}, "settings.speed"),
        ({"speed": 0.1}, "settings.speed"),
        ({"temperature": 0}, "settings.temperature"),
        ({"temperature": 2.5}, "settings.temperature"),
        ({"top_p": 0}, "settings.top_p"),
        ({"top_p": 1.5}, "settings.top_p"),
        ({"top_k": 0}, "settings.top_k"),
        ({"top_k": 5.5}, "settings.top_k"),
        ({"repetition_penalty": 0.5}, "settings.repetition_penalty"),
        ({"seed": -1}, "settings.seed"),
        ({"speed": "fast"}, "settings.speed"),
        ({"speed": True}, "settings.speed"),
        ({"emotion": "furious"}, "settings.emotion"),
        ({"loudness": 3}, "settings.loudness"),
    ],
)
def test_a_setting_out_of_its_range_is_a_400_naming_it_and_nothing_is_stored(owner_api, voice_id, bad, field) -> None:
    owner_api.patch(f"/api/v1/voices/{voice_id}", {"settings": {"speed": 1.1}}, format="json")

    response = owner_api.patch(f"/api/v1/voices/{voice_id}", {"name": "Renamed", "settings": bad}, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["message"] and field in error["details"]
    voice = Voice.objects.get(pk=voice_id)
    assert voice.settings == {"speed": 1.1} and voice.name == "Grandma"


def test_settings_that_are_not_an_object_are_a_400(owner_api, voice_id) -> None:
    response = owner_api.patch(f"/api/v1/voices/{voice_id}", {"settings": [1, 2]}, format="json")

    assert response.status_code == 400
    assert "settings" in response.json()["error"]["details"]


def test_a_builtin_voices_settings_cannot_be_changed(owner_api) -> None:
    joe = next(v for v in owner_api.get("/api/v1/voices", {"engine": "piper"}).json()["results"] if v["name"] == "joe")

    response = owner_api.patch(f"/api/v1/voices/{joe['id']}", {"settings": {"speed": 2}}, format="json")

    assert response.status_code == 403


def test_an_outsider_cannot_see_or_change_your_voices_settings(outsider_api, voice_id) -> None:
    response = outsider_api.patch(f"/api/v1/voices/{voice_id}", {"settings": {"speed": 2}}, format="json")

    assert response.status_code == 404
    assert Voice.objects.get(pk=voice_id).settings == {}


def test_the_schema_declares_settings_with_their_ranges(owner_api) -> None:
    schema = owner_api.get("/openapi.json").json()
    patch = schema["components"]["schemas"]["PatchedVoiceUpdateRequest"]["properties"]["settings"]

    assert patch["properties"]["temperature"]["minimum"] == 0.01
    assert patch["properties"]["temperature"]["maximum"] == 2.0
    assert patch["properties"]["speed"]["nullable"] is True
    assert patch["additionalProperties"] is False
    assert "settings" in schema["components"]["schemas"]["Voice"]["properties"]


# ---------------------------------------------------------------- resolution


def test_a_request_wins_over_the_voice_which_wins_over_the_engine() -> None:
    voice = Voice(settings={"speed": 1.3, "temperature": 0.5})

    params = job_params_resolve(voice=voice, given={"temperature": 0.9})

    assert params.temperature == 0.9  # the request's own
    assert params.speed == 1.3  # the voice's
    assert params.top_k == 50  # the engine's default


def test_a_request_may_clear_the_voices_seed() -> None:
    voice = Voice(settings={"seed": 7})

    assert job_params_resolve(voice=voice, given={}).seed == 7
    assert job_params_resolve(voice=voice, given={"seed": None}).seed is None


def test_new_settings_give_the_voice_a_new_preview() -> None:
    from synthesis.preview import preview_path

    voice = Voice(samples_version=2, settings={})
    plain = preview_path(voice)
    voice.settings = {"speed": 1.2}
    tuned = preview_path(voice)

    assert tuned != plain and tuned.parent == plain.parent
    assert preview_path(Voice(pk=voice.pk, samples_version=2, settings={"speed": 1.2})) == tuned
