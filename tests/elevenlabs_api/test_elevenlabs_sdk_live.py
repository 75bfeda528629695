"""The official `elevenlabs` Python SDK, unchanged, against a live Speaker server
(`ElevenLabs(api_key=<Speaker key>, base_url=<server>)`): every call docs/compatibility.md lists."""

from __future__ import annotations

import base64
import io
from types import SimpleNamespace

import numpy as np
import pytest
import requests
import soundfile as sf
from elevenlabs import ElevenLabs, VoiceSettings
from elevenlabs.core.api_error import ApiError

TEXT = "Hello from an ElevenLabs client. Speaker answers in its own voice."


@pytest.fixture(scope="module")
def key(live_server_embedded) -> str:  # type: ignore[no-untyped-def]
    return live_server_embedded.create_key("elevenlabs-user")


@pytest.fixture(scope="module")
def client(live_server_embedded, key) -> ElevenLabs:  # type: ignore[no-untyped-def]
    return ElevenLabs(api_key=key, base_url=live_server_embedded.url, timeout=120)


@pytest.fixture(scope="module")
def joe(client) -> str:  # type: ignore[no-untyped-def]
    return next(v.voice_id for v in client.voices.get_all().voices if v.name == "joe")


def check_alignment(alignment, text: str, seconds: float) -> None:  # type: ignore[no-untyped-def]
    assert "".join(alignment.characters) == text
    starts, ends = alignment.character_start_times_seconds, alignment.character_end_times_seconds
    assert len(starts) == len(ends) == len(text)
    assert all(s <= e for s, e in zip(starts, ends, strict=False)) and starts == sorted(starts) and ends == sorted(ends)
    assert 0.0 <= starts[0] and ends[-1] <= seconds + 0.05
    # The words cover the audio: the last one ends near its end, not at a made-up time.
    assert ends[-1] > 0.6 * seconds


def test_convert_gives_mp3_at_the_asked_rate(client, joe):
    audio = b"".join(
        client.text_to_speech.convert(joe, text=TEXT, output_format="mp3_22050_32", model_id="eleven_multilingual_v2")
    )
    pcm, rate = sf.read(io.BytesIO(audio), dtype="float32")
    assert rate == 22050 and pcm.size / rate > 2.0


def test_stream_gives_pcm_with_voice_settings_applied(client, joe):
    settings = VoiceSettings(stability=0.9, similarity_boost=0.75, style=0.0, use_speaker_boost=True, speed=1.2)
    chunks = list(
        client.text_to_speech.stream(joe, text=TEXT, output_format="pcm_16000", voice_settings=settings, seed=7)
    )
    audio = b"".join(chunks)
    assert len(audio) % 2 == 0
    fast = len(audio) / 2 / 16000
    normal = len(b"".join(client.text_to_speech.stream(joe, text=TEXT, output_format="pcm_16000"))) / 2 / 16000
    assert fast < normal * 0.95  # speed 1.2 speaks faster


def test_telephony_ulaw_is_8_khz_bytes(client, joe):
    audio = b"".join(client.text_to_speech.convert(joe, text="Calling you now.", output_format="ulaw_8000"))
    decoded, _ = sf.read(io.BytesIO(audio), samplerate=8000, channels=1, format="RAW", subtype="ULAW", dtype="float32")
    assert decoded.size == len(audio) and np.abs(decoded).max() > 0.1


def test_convert_with_timestamps_aligns_every_character_from_the_jobs_word_timings(
    client, joe, key, live_server_embedded
):
    raw = client.text_to_speech.with_raw_response.convert_with_timestamps(joe, text=TEXT, output_format="pcm_24000")
    result = raw.data
    audio = base64.b64decode(result.audio_base_64)
    seconds = len(audio) / 2 / 24000
    check_alignment(result.alignment, TEXT, seconds)
    check_alignment(result.normalized_alignment, TEXT, seconds)
    assert result.alignment.timings_method in ("exact", "estimated")
    # Each word's first character starts when the job's stored timings say the word does.
    job_id = raw.headers["history-item-id"]
    timings = requests.get(
        f"{live_server_embedded.url}/api/v1/synthesis/{job_id}/timings", headers={"X-API-Key": key}, timeout=30
    ).json()
    cursor = 0
    for word in timings["words"]:
        at = TEXT.index(word["text"].split()[0], cursor)
        assert abs(result.alignment.character_start_times_seconds[at] - word["start"]) < 0.002, word
        cursor = at + len(word["text"])


def test_stream_with_timestamps_sends_each_sentence_with_its_alignment(client, joe):
    chunks = list(client.text_to_speech.stream_with_timestamps(joe, text=TEXT, output_format="pcm_22050"))
    with_audio = [chunk for chunk in chunks if chunk.audio_base_64]
    assert len(with_audio) >= 2  # one per sentence
    assert all(chunk.alignment is not None for chunk in with_audio)
    first_sentence = "".join(with_audio[0].alignment.characters)
    assert TEXT.startswith(first_sentence) and first_sentence.rstrip().endswith(".") and len(first_sentence) < len(TEXT)
    audio = b"".join(base64.b64decode(chunk.audio_base_64) for chunk in chunks)
    joined = SimpleNamespace(
        characters=[c for chunk in chunks if chunk.alignment for c in chunk.alignment.characters],
        character_start_times_seconds=[
            t for chunk in chunks if chunk.alignment for t in chunk.alignment.character_start_times_seconds
        ],
        character_end_times_seconds=[
            t for chunk in chunks if chunk.alignment for t in chunk.alignment.character_end_times_seconds
        ],
    )
    check_alignment(joined, TEXT, len(audio) / 2 / 22050)
    # Each sentence's characters end within the audio sent so far.
    sent = 0.0
    for chunk in chunks:
        sent += len(base64.b64decode(chunk.audio_base_64)) / 2 / 22050
        if chunk.alignment:
            assert chunk.alignment.character_end_times_seconds[-1] <= sent + 0.05


def test_voices_search_pages(client):
    page = client.voices.search(page_size=1, search="joe")
    assert page.total_count == 1 and [v.name for v in page.voices] == ["joe"] and page.has_more is False


def test_voices_get(client, joe):
    voice = client.voices.get(joe)
    assert voice.voice_id == joe and voice.category == "premade"


def test_models_and_subscription(client):
    assert [m.model_id for m in client.models.list()] == ["piper"]
    subscription = client.user.subscription.get()
    assert subscription.character_limit > 0 and subscription.character_count > 0  # the generations above


def test_every_generation_is_in_history(client):
    history = client.history.list(page_size=100).history
    assert TEXT in [item.text for item in history]
    assert all(item.voice_name == "joe" for item in history)


def test_cloning_needs_the_attestation_then_clones_and_deletes(client, joe, key, live_server_embedded):
    sample = b"".join(
        client.text_to_speech.convert(
            joe,
            text="This is my voice, recorded for cloning. I read a few calm sentences so that the model can hear me.",
            output_format="mp3_44100_128",
        )
    )
    with pytest.raises(ApiError) as refused:
        client.voices.ivc.create(name="Mine", files=[("me.mp3", sample, "audio/mpeg")])
    assert refused.value.status_code == 403 and "/api/v1/cloning-attestation" in refused.value.body["detail"]["message"]

    accepted = requests.post(
        f"{live_server_embedded.url}/api/v1/cloning-attestation",
        json={"accept": True},
        headers={"X-API-Key": key},
        timeout=30,
    )
    assert accepted.status_code == 201, accepted.text

    created = client.voices.ivc.create(
        name="Mine",
        files=[("me.mp3", sample, "audio/mpeg")],
        description="cloned by the SDK",
        labels={"language": "en"},
    )
    voice = client.voices.get(created.voice_id)
    assert voice.name == "Mine" and voice.category == "cloned" and voice.is_owner is True
    assert voice.labels["status"] == "pending_engine"  # the live server runs Piper only
    assert client.voices.delete(created.voice_id).status == "ok"
    with pytest.raises(ApiError) as gone:
        client.voices.get(created.voice_id)
    assert gone.value.status_code == 404


def test_errors_come_in_elevenlabs_shape(client, live_server_embedded):
    with pytest.raises(ApiError) as missing:
        client.text_to_speech.convert_with_timestamps("no-such-voice", text="Hello")
    assert missing.value.status_code == 404 and missing.value.body["detail"]["status"] == "voice_not_found"
    bad = ElevenLabs(api_key="spk_nope_nope", base_url=live_server_embedded.url)
    with pytest.raises(ApiError) as unauthorised:
        bad.voices.get_all()
    assert unauthorised.value.status_code == 401


def test_a_nul_in_a_query_comes_back_in_elevenlabs_shape(client):
    # It came back as plain text on /v2/voices (and in OpenAI's shape on ElevenLabs' /v1/ routes).
    with pytest.raises(ApiError) as refused:
        client.voices.search(search="a\x00b")
    assert refused.value.status_code == 400
    assert (
        refused.value.body["detail"]["status"] == "invalid_request" and "NUL" in refused.value.body["detail"]["message"]
    )
