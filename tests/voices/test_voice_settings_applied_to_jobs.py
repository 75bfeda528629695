"""A voice's default parameters reach every job that speaks with it, on the tiny XTTS
checkpoint: Speaker's jobs, productions' segments and the ElevenLabs routes resolve
them in one place (synthesis.services.job_params_resolve); a request's own win."""

from __future__ import annotations

import pytest

from synthesis.models import SynthesisJob
from voices.services import voice_prepare


@pytest.fixture
def ready_voice(tiny_xtts_engines, create_voice, owner_api) -> str:  # type: ignore[no-untyped-def]
    voice_id = create_voice().json()["id"]
    assert voice_prepare(voice_id=voice_id).status == "ready"
    response = owner_api.patch(
        f"/api/v1/voices/{voice_id}",
        {"settings": {"speed": 1.25, "temperature": 0.5, "seed": 11, "max_new_tokens": 8}},
        format="json",
    )
    assert response.status_code == 200, response.json()
    return voice_id


def test_a_job_speaks_with_the_voices_defaults(owner_api, ready_voice) -> None:
    response = owner_api.post("/api/v1/synthesis", {"text": "Hello there.", "voice": ready_voice}, format="json")

    assert response.status_code in (201, 202), response.json()
    params = response.json()["params"]
    assert (params["speed"], params["temperature"], params["seed"]) == (1.25, 0.5, 11)
    assert params["top_k"] == 50  # the engine's default where the voice says nothing


def test_a_requests_own_values_win_over_the_voices(owner_api, ready_voice) -> None:
    response = owner_api.post(
        "/api/v1/synthesis",
        {"text": "Hello there.", "voice": ready_voice, "params": {"speed": 0.9, "seed": None}},
        format="json",
    )

    params = response.json()["params"]
    assert (params["speed"], params["seed"], params["temperature"]) == (0.9, None, 0.5)


def test_a_productions_segments_take_their_voices_defaults(owner_api, ready_voice) -> None:
    response = owner_api.post(
        "/api/v1/productions",
        {"text": "One sentence here. And another one.", "voice": ready_voice, "params": {"temperature": 0.7}},
        format="json",
    )

    assert response.status_code == 202, response.json()
    jobs = SynthesisJob.objects.filter(mode=SynthesisJob.Mode.SEGMENT)
    assert jobs.exists()
    for job in jobs:
        assert (job.params["speed"], job.params["temperature"]) == (1.25, 0.7)


def test_an_elevenlabs_request_without_voice_settings_takes_the_voices(owner, make_key, ready_voice) -> None:
    from django.test import Client

    from elevenlabs_api.requests import speech_body
    from synthesis.services import JobRequest, job_validate

    body = speech_body({"text": "Hello there."})
    fields = job_validate(user=owner, req=JobRequest(text=body.text, voice=ready_voice, params=body.params))
    assert (fields["params"]["speed"], fields["params"]["temperature"]) == (1.25, 0.5)

    settings = Client().get(f"/v1/voices/{ready_voice}/settings", HTTP_XI_API_KEY=make_key(owner)).json()
    assert settings["speed"] == 1.25
    assert settings["stability"] == pytest.approx(1.5 - 0.5 / 0.75, abs=1e-4)
