"""The engine contract (speech/engines/base.py): an engine speaks one segment; the base
class walks the segments (silence between them, each one's prosody preset, progress)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from speech.engines import BuiltinVoice, Engine, EngineConfig, EngineRegistry, SynthesisParams, SynthesisPlan, VoiceRef
from speech.engines.prosody import Prosody, preset
from speech.text import Segment

RATE = 1000


class CountingEngine(Engine):
    """The smallest engine: each segment is `len(text)` samples of its prosody's volume,
    in two chunks (an engine may stream a segment in pieces). "mute" speaks nothing."""

    name = "counting"
    languages = ("en",)
    sample_rate = RATE

    def __init__(self) -> None:
        super().__init__()
        self.loaded = False
        self.spoken: list[tuple[str, Prosody]] = []

    def builtin_voices(self) -> list[BuiltinVoice]:
        return [BuiltinVoice(self.name, "one", "en", ("en",), "a counting voice")]

    def _is_loaded(self) -> bool:
        return self.loaded

    def _load(self) -> None:
        self.loaded = True

    def _unload(self) -> None:
        self.loaded = False

    def _resolve_voice(self, voice: VoiceRef, language: str, params: SynthesisParams) -> str:
        return voice.builtin or "one"

    def _synthesize_segment(self, segment: Segment, prosody: Prosody, plan: SynthesisPlan) -> Iterator[np.ndarray]:
        self.spoken.append((segment.text, prosody))
        if segment.text.startswith("mute"):
            return
        half = len(segment.text) // 2
        yield np.full(half, prosody.volume, dtype=np.float32)
        yield np.full(len(segment.text) - half, prosody.volume, dtype=np.float32)


def test_an_engine_implements_one_segment_and_the_base_puts_silence_between_segments() -> None:
    engine = CountingEngine()
    with engine.synthesize("Hello there. Bye.", language="en", params=SynthesisParams(sentence_silence=0.25)) as stream:
        chunks = list(stream)
    assert [c.size for c in chunks] == [6, 6, 250, 2, 2]
    assert not chunks[2].any()  # the silence
    assert stream.stats.segments == 2 and stream.stats.chunks == 5 and stream.stats.finished


def test_each_segment_gets_the_prosody_preset_of_its_emotion() -> None:
    engine = CountingEngine()
    audio = engine.synthesize_all("Plain. (whisper) Quiet. (happy) Glad!", language="en")
    assert [prosody for _, prosody in engine.spoken] == [preset("neutral"), preset("whisper"), preset("happy")]
    assert np.isclose(audio.min(), 0.0) and np.isclose(audio.max(), 1.0)  # neutral at full volume, silence


def test_progress_is_reported_once_per_segment_before_its_first_chunk() -> None:
    engine = CountingEngine()
    events: list[object] = []
    with engine.synthesize(
        "One here. Two there. Three.",
        language="en",
        params=SynthesisParams(sentence_silence=0.0),
        on_progress=lambda spoken, total: events.append((spoken, total)),
    ) as stream:
        for chunk in stream:
            events.append(chunk.size)
    assert events == [(1, 3), 4, 5, (2, 3), 5, 5, (3, 3), 3, 3]


def test_a_segment_that_makes_no_sound_is_not_reported_as_spoken() -> None:
    engine = CountingEngine()
    reports: list[tuple[int, int]] = []
    engine.synthesize_all(
        "Start here. (sad) mute here. (neutral) The end.",
        language="en",
        on_progress=lambda spoken, total: reports.append((spoken, total)),
    )
    assert [text for text, _ in engine.spoken] == ["Start here.", "mute here.", "The end."]
    assert reports == [(1, 3), (3, 3)]


def test_status_note_is_part_of_every_engine_and_shown_by_the_registry() -> None:
    class NotingEngine(CountingEngine):
        def status_note(self) -> str | None:
            return "warming up"

    quiet = EngineRegistry(EngineConfig(enabled=["piper"]), factories={"piper": CountingEngine})
    noting = EngineRegistry(EngineConfig(enabled=["piper"]), factories={"piper": NotingEngine})
    assert CountingEngine().status_note() is None
    assert [s.note for s in quiet.status()] == [None]
    assert [s.note for s in noting.status()] == ["warming up"]
