"""voices.services.voice_prepare / voice_requeue_pending and
voices.selectors.voices_needing_preparation: the worker's side of cloned voices."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from core.events import user_group
from voices.models import Voice
from voices.selectors import voices_needing_preparation
from voices.services import voice_prepare, voice_requeue_pending


@pytest.fixture
def events(owner):  # type: ignore[no-untyped-def]
    """Messages sent to the owner's websocket group."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(owner.pk), channel)

    def receive() -> dict:
        return async_to_sync(layer.receive)(channel)

    yield receive
    async_to_sync(layer.group_discard)(user_group(owner.pk), channel)


def test_it_prepares_a_cloned_voice_on_the_tiny_xtts(tiny_xtts_engines, create_voice, events) -> None:
    voice_id = create_voice().json()["id"]
    assert list(voices_needing_preparation().values_list("pk", flat=True)) == [Voice.objects.get(pk=voice_id).pk]

    voice = voice_prepare(voice_id=voice_id)

    assert voice.status == "ready"
    assert voice.status_message == ""
    assert voice.conditioning_engine == "xtts"
    assert voice.conditioned_at is not None
    assert len(bytes(voice.conditioning)) > 1000
    assert not voices_needing_preparation().exists()
    message = events()
    assert message["event"] == "voice.ready"
    assert message["payload"]["voice_id"] == voice_id
    assert message["payload"]["status"] == "ready"


def test_the_prepared_voice_speaks_through_the_engine(tiny_xtts_engines, create_voice) -> None:
    from speech.engines import SynthesisParams, VoiceRef

    voice = voice_prepare(voice_id=create_voice().json()["id"])

    engine = tiny_xtts_engines.get("xtts")
    audio = engine.synthesize_all(
        "Hello.", language="en", voice=VoiceRef(conditioning=bytes(voice.conditioning)),
        params=SynthesisParams(do_sample=False, seed=1, max_new_tokens=8),
    )  # fmt: skip
    assert audio.size > 0


def test_it_keeps_one_conditioning_per_emotion_label(
    tiny_xtts_engines, create_voice, speech_upload, other_upload
) -> None:
    from speech.engines.xtts_conditioning import deserialise

    voice_id = create_voice(samples=[speech_upload(), other_upload()], emotions=["neutral", "happy"]).json()["id"]

    voice = voice_prepare(voice_id=voice_id)

    assert sorted(deserialise(bytes(voice.conditioning)).voices) == ["happy", "neutral"]


def test_it_drops_a_result_made_from_samples_that_changed_meanwhile(
    tiny_xtts_engines, create_voice, monkeypatch
) -> None:
    voice_id = create_voice().json()["id"]
    engine = tiny_xtts_engines.get("xtts")
    real = engine.prepare_voice

    def prepare_while_samples_change(samples):  # type: ignore[no-untyped-def]
        Voice.objects.filter(pk=voice_id).update(samples_version=99)
        return real(samples)

    monkeypatch.setattr(engine, "prepare_voice", prepare_while_samples_change)

    voice = voice_prepare(voice_id=voice_id)

    assert voice.status == "processing"
    assert voice.conditioning is None


def test_an_engine_error_fails_the_voice_and_tells_the_owner(
    tiny_xtts_engines, create_voice, events, monkeypatch
) -> None:
    from speech.engines.errors import InvalidSample

    voice_id = create_voice().json()["id"]

    def refuse(samples):  # type: ignore[no-untyped-def]
        raise InvalidSample("samples for 'neutral' are too short")

    monkeypatch.setattr(tiny_xtts_engines.get("xtts"), "prepare_voice", refuse)

    voice = voice_prepare(voice_id=voice_id)

    assert voice.status == "failed"
    assert "too short" in voice.status_message
    message = events()
    assert message["event"] == "voice.failed"
    assert "too short" in message["payload"]["message"]


def test_without_a_cloning_engine_the_voice_waits_as_pending_engine(piper_only_engines, owner) -> None:
    voice = Voice.objects.create(owner=owner, name="Grandma", language="en", engine="xtts", status="processing")

    voice = voice_prepare(voice_id=voice.pk)

    assert voice.status == "pending_engine"
    assert voice.status_message.startswith("Voice cloning needs the xtts engine, which is not available here:")


def test_pending_voices_go_back_in_the_queue_once_a_cloning_engine_is_there(tiny_xtts_engines, owner) -> None:
    voice = Voice.objects.create(owner=owner, name="Grandma", language="en", engine="xtts", status="pending_engine")

    assert voice_requeue_pending() == 1

    voice.refresh_from_db()
    assert voice.status == "processing"
    assert voice.status_message == ""


def test_pending_voices_stay_pending_without_a_cloning_engine(piper_only_engines, owner) -> None:
    Voice.objects.create(owner=owner, name="Grandma", language="en", engine="xtts", status="pending_engine")

    assert voice_requeue_pending() == 0
    assert Voice.objects.get(owner=owner).status == "pending_engine"
