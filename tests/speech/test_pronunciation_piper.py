"""Piper honours pronunciation rules and markup (docs/pronunciation.md): an alias is
said (and the written word timed), a phoneme rule reaches Piper as phonemes, a <break>
is exact silence."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from speech.engines import SynthesisParams
from speech.engines.piper_engine import PiperEngine
from speech.pronunciation import Lexicon, Rule

# 60 words, "TTS" among them four times.
TEXT = (
    "TTS turns written words into sound. A good TTS voice reads a long book without tiring, "
    "and it never stumbles over a name twice. Writers use TTS to hear their drafts aloud, "
    "and teachers use it for pupils who learn by listening. With TTS a page becomes a voice "
    "that anyone can enjoy at home or on a long walk."
)
STEADY = SynthesisParams(variability=0.0)  # no noise: the same text gives the same audio


def speak(engine: PiperEngine, text: str, **kwargs) -> tuple[np.ndarray, list]:  # type: ignore[no-untyped-def]
    with engine.synthesize(text, language="en", params=STEADY, **kwargs) as stream:
        pcm = np.concatenate(list(stream))
        return pcm, stream.timings.words


@pytest.fixture
def phoneme_ids(piper_engine: PiperEngine, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[int]]]:
    """The phoneme ids Piper's voice is given, sentence by sentence (a spy on the real
    voice: it still speaks)."""
    voice = piper_engine._voice("joe")
    given: list[list[int]] = []
    original = voice.phonemes_to_ids

    def record(phonemes: list[str]) -> list[int]:
        ids = original(phonemes)
        given.append(list(ids))
        return ids

    monkeypatch.setattr(voice, "phonemes_to_ids", record)
    yield given


def test_sixty_words_with_tts_aliased_are_longer_and_still_timed_as_tts(piper_engine):
    assert len(TEXT.split()) == 60
    plain, _ = speak(piper_engine, TEXT)
    aliased, words = speak(piper_engine, TEXT, lexicon=Lexicon([Rule("TTS", alias="text to speech")]))
    seconds = (len(aliased) - len(plain)) / piper_engine.sample_rate
    assert seconds > 1.0, f"only {seconds:.2f} s longer"
    written = [w.text for w in words]
    assert written.count("TTS") == 4 and written[0] == "TTS"
    assert "speech" not in " ".join(written)
    assert all(a.end <= b.start + 1e-6 for a, b in zip(words, words[1:], strict=False))


def test_a_two_second_break_adds_two_seconds(piper_engine):
    without, _ = speak(piper_engine, "The scene ends here. A new one begins.")
    with_break, words = speak(piper_engine, 'The scene ends here. <break time="2s"/> A new one begins.')
    added = (len(with_break) - len(without)) / piper_engine.sample_rate
    assert added == pytest.approx(2.0, abs=0.05)
    assert [w.text for w in words] == ["The", "scene", "ends", "here.", "A", "new", "one", "begins."]


def test_a_phoneme_rule_changes_the_phoneme_ids_piper_is_given(piper_engine, phoneme_ids):
    speak(piper_engine, "I like Speaker.")
    plain = list(phoneme_ids)
    phoneme_ids.clear()
    rule = Rule("Speaker", phoneme="S P IY1 K AA0 R", alphabet="cmu-arpabet")
    _, words = speak(piper_engine, "I like Speaker.", lexicon=Lexicon([rule]))
    voice = piper_engine._voice("joe")
    expected = [i for phoneme in rule.ipa for i in voice.config.phoneme_id_map[phoneme]]
    assert len(expected) == len(rule.ipa) == 9
    flat = [i for ids in phoneme_ids for i in ids]
    assert phoneme_ids != plain
    assert any(flat[k : k + len(expected) * 2 : 2] == expected for k in range(len(flat))), (expected, flat)
    assert [w.text for w in words] == ["I", "like", "Speaker."]


def test_an_inline_phoneme_tag_reaches_piper_as_phonemes(piper_engine, phoneme_ids):
    speak(piper_engine, 'Say <phoneme alphabet="ipa" ph="təmˈɑːtoʊ">tomato</phoneme>.')
    voice = piper_engine._voice("joe")
    expected = [i for phoneme in "təmˈɑːtoʊ" for i in voice.config.phoneme_id_map[phoneme]]
    flat = [i for ids in phoneme_ids for i in ids]
    assert any(flat[k : k + len(expected) * 2 : 2] == expected for k in range(len(flat)))
