"""Piper's word timings are exact: Piper's own phoneme alignment grouped into words,
within 50 ms of the word boundaries Piper itself reports, monotonic, covering the audio."""

from __future__ import annotations

import numpy as np
import pytest
from piper import SynthesisConfig

from speech.engines import SynthesisParams, VoiceRef
from speech.engines.piper_engine import PiperEngine
from speech.timings import EXACT, PhonemeSpan, WordTiming, phoneme_words, spoken_words

ONE_SENTENCE = "Speaker reads every sentence clearly, and timings follow each word."
TWO_SENTENCES = "Speaker reads every sentence clearly. Timings follow each word."


def speak(engine: PiperEngine, text: str, **params: object) -> tuple[np.ndarray, list[WordTiming], str]:
    with engine.synthesize(
        text, language="en", voice=VoiceRef(builtin="joe"), params=SynthesisParams(**params)
    ) as stream:  # type: ignore[arg-type]
        audio = np.concatenate(list(stream))
    return audio, stream.timings.words, stream.timings.method


def piper_word_boundaries(engine: PiperEngine, text: str) -> list[tuple[float, float]]:
    """What Piper itself says, straight from its voice: each word from its first to its
    last phoneme, words being the runs between its space and pause phonemes. The
    settings are what the engine uses for variability 0 at speed 1."""
    voice = engine._voice("joe")
    config = SynthesisConfig(
        length_scale=voice.config.length_scale, noise_scale=0.0, noise_w_scale=0.0, normalize_audio=False
    )
    spans: list[PhonemeSpan] = []
    at = 0.0
    for chunk in voice.synthesize(text, syn_config=config, include_alignments=True):
        assert chunk.phoneme_alignments is not None, "the voice was not loaded with alignments (is onnx installed?)"
        for alignment in chunk.phoneme_alignments:
            seconds = alignment.num_samples / voice.config.sample_rate
            spans.append(PhonemeSpan(alignment.phoneme, at, at + seconds))
            at += seconds
    return [(spans[first].start, spans[last].end) for first, last in phoneme_words(spans)]


def test_piper_loads_its_voices_with_alignments(piper_engine: PiperEngine) -> None:
    assert piper_engine.exact_timings


def test_piper_timings_are_exact_and_name_every_spoken_word(piper_engine: PiperEngine) -> None:
    _, words, method = speak(piper_engine, ONE_SENTENCE, variability=0.0)
    assert method == EXACT
    assert [w.text for w in words] == spoken_words(ONE_SENTENCE)


def test_piper_timings_land_within_50_ms_of_piper_own_word_boundaries(piper_engine: PiperEngine) -> None:
    _, words, _ = speak(piper_engine, ONE_SENTENCE, variability=0.0)
    boundaries = piper_word_boundaries(piper_engine, ONE_SENTENCE)
    assert len(boundaries) == len(words)  # this sentence's words are espeak's words one to one
    for word, (start, end) in zip(words, boundaries, strict=False):
        assert abs(word.start - start) <= 0.05, (word, start)
        assert abs(word.end - end) <= 0.05, (word, end)


def test_later_sentences_are_timed_after_the_silence_between_them(piper_engine: PiperEngine) -> None:
    audio, words, _ = speak(piper_engine, TWO_SENTENCES, variability=0.0, sentence_silence=0.5)
    first_audio = (
        len(speak(piper_engine, "Speaker reads every sentence clearly.", variability=0.0)[0]) / piper_engine.sample_rate
    )
    second = piper_word_boundaries(piper_engine, "Timings follow each word.")
    timings_word = words[5]
    assert timings_word.text == "Timings"
    assert abs(timings_word.start - (first_audio + 0.5 + second[0][0])) <= 0.05
    assert abs(words[-1].end - (first_audio + 0.5 + second[-1][1])) <= 0.05


@pytest.mark.parametrize(
    "text",
    [
        ONE_SENTENCE,
        "In 1984, Dr. Smith paid $3.50 for e-mail at 10:30 a.m. I am fine... thanks!",
        "(happy) What a day! (sad) Not for everyone, though; some of the others stayed home.",
    ],
)
def test_piper_timings_are_monotonic_and_cover_the_audio(piper_engine: PiperEngine, text: str) -> None:
    audio, words, method = speak(piper_engine, text)
    duration = len(audio) / piper_engine.sample_rate
    assert method == EXACT and [w.text for w in words] == spoken_words(text)
    last = 0.0
    for word in words:
        assert last <= word.start <= word.end, words
        last = word.end
    assert all(w.end > w.start for w in words)  # every word takes time
    assert words[0].start < 0.3
    assert duration - 0.4 < words[-1].end <= duration
