"""The official `elevenlabs` SDK's voices.settings calls against a live Speaker server:
a voice's default settings, shared with Speaker's own API (PATCH /api/v1/voices/{id})."""

from __future__ import annotations

import pytest
import requests
from elevenlabs import ElevenLabs, VoiceSettings
from elevenlabs.core.api_error import ApiError


@pytest.fixture(scope="module")
def key(live_server_embedded) -> str:  # type: ignore[no-untyped-def]
    return live_server_embedded.create_key("elevenlabs-settings-user")


@pytest.fixture(scope="module")
def client(live_server_embedded, key) -> ElevenLabs:  # type: ignore[no-untyped-def]
    return ElevenLabs(api_key=key, base_url=live_server_embedded.url, timeout=120)


@pytest.fixture(scope="module")
def joe(client) -> str:  # type: ignore[no-untyped-def]
    return next(v.voice_id for v in client.voices.get_all().voices if v.name == "joe")


@pytest.fixture(scope="module")
def my_voice(client, joe, key, live_server_embedded) -> str:  # type: ignore[no-untyped-def]
    """One of the caller's own clones (pending the engine on this Piper-only server)."""
    sample = b"".join(
        client.text_to_speech.convert(
            joe,
            text="This is my voice, recorded for cloning. I read a few calm sentences so that the model can hear me.",
            output_format="mp3_44100_128",
        )
    )
    accepted = requests.post(
        f"{live_server_embedded.url}/api/v1/cloning-attestation",
        json={"accept": True},
        headers={"X-API-Key": key},
        timeout=30,
    )
    assert accepted.status_code in (200, 201), accepted.text
    return client.voices.ivc.create(name="Tuned", files=[("me.mp3", sample, "audio/mpeg")]).voice_id


def test_the_defaults_are_elevenlabs_own(client) -> None:
    defaults = client.voices.settings.get_default()

    assert (defaults.stability, defaults.similarity_boost, defaults.style, defaults.speed) == (0.5, 0.75, 0.0, 1.0)
    assert defaults.use_speaker_boost is True


def test_a_voice_saves_its_settings_and_speakers_api_sees_them(client, my_voice, key, live_server_embedded) -> None:
    assert client.voices.settings.get(my_voice).stability == 0.5

    edited = client.voices.settings.update(
        my_voice, request=VoiceSettings(stability=0.8, speed=1.2, similarity_boost=0.3)
    )

    assert edited.status == "ok"
    saved = client.voices.settings.get(my_voice)
    assert (saved.stability, saved.speed, saved.similarity_boost, saved.style) == (0.8, 1.2, 0.3, 0.0)
    assert client.voices.get(my_voice).settings.speed == 1.2
    speaker = requests.get(
        f"{live_server_embedded.url}/api/v1/voices/{my_voice}", headers={"X-API-Key": key}, timeout=30
    ).json()
    assert speaker["settings"]["speed"] == 1.2
    assert speaker["settings"]["temperature"] == pytest.approx(0.75 * (1.5 - 0.8))


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ({"stability": 1.5}, "stability"),
        ({"speed": 5.0}, "speed"),
        ({"similarity_boost": -0.1}, "similarity_boost"),
    ],
)
def test_a_setting_out_of_range_is_a_400_naming_it(client, my_voice, bad, named) -> None:
    with pytest.raises(ApiError) as refused:
        client.voices.settings.update(my_voice, request=VoiceSettings(**bad))

    assert refused.value.status_code == 400
    assert named in refused.value.body["detail"]["message"]


def test_a_builtin_voice_reads_the_defaults_and_cannot_be_edited(client, joe) -> None:
    assert client.voices.settings.get(joe).stability == 0.5

    with pytest.raises(ApiError) as refused:
        client.voices.settings.update(joe, request=VoiceSettings(stability=0.9))

    assert refused.value.status_code == 404
