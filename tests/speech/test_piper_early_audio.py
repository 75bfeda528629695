"""Piper speaks a generation's first sentence in two pieces, so the first audio comes
after a fraction of the sentence's work (speech/engines/piper_engine.py, "Early first
audio"): the first `EARLY_FRAMES` frames, then the rest, each decoded with
`DECODER_CONTEXT` frames of its neighbour. Joined, they are piper's own audio for the
sentence to float rounding, with the same word timings."""

from __future__ import annotations

import numpy as np
from piper import SynthesisConfig

from speech.engines.params import SynthesisParams
from speech.engines.piper_engine import DECODER_CONTEXT, EARLY_FRAMES, PiperEngine

FIRST = "Every morning the small bakery on the corner opens its doors early."
TEXT = FIRST + " The smell of fresh bread drifts down the street and wakes the neighbours."
STILL = SynthesisParams(variability=0.0)  # no noise: piper's audio is then a function of the text
# piper's own SynthesisConfig for what STILL asks of the "joe" voice (prosody preset neutral)
PIPER_STILL = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, normalize_audio=False)


def _speak(engine: PiperEngine, text: str) -> tuple[list[np.ndarray], list[tuple[str, float, float]]]:
    with engine.synthesize(text, language="en", params=STILL) as stream:
        chunks = list(stream)
    return chunks, [(w.text, w.start, w.end) for w in stream.timings.words]


def _piper_alone(engine: PiperEngine, text: str) -> np.ndarray:
    """What piper itself says for `text`, one run per sentence."""
    voice = engine._voice(engine.default_voice)
    return np.concatenate([c.audio_float_array for c in voice.synthesize(text, syn_config=PIPER_STILL)])


def test_the_first_sentence_comes_in_two_pieces_the_first_of_early_frames(piper_engine: PiperEngine) -> None:
    hop = int(piper_engine._voice(piper_engine.default_voice).config.hop_length)
    chunks, _ = _speak(piper_engine, TEXT)
    # early piece, rest of the first sentence, the silence between segments, the second sentence
    assert [len(c) for c in chunks[:1]] == [EARLY_FRAMES * hop]
    assert len(chunks) == 4


def test_the_pieces_join_into_piper_s_own_audio_for_the_sentence(piper_engine: PiperEngine) -> None:
    chunks, _ = _speak(piper_engine, FIRST)
    joined = np.concatenate(chunks)
    alone = _piper_alone(piper_engine, FIRST)
    assert len(chunks) == 2
    assert joined.shape == alone.shape
    # Float rounding only (~1e-6): a join short of the decoder's reach differs by ~1e-2.
    assert np.abs(joined - alone).max() < 1e-5


def test_word_timings_do_not_change_with_the_pieces(piper_engine: PiperEngine) -> None:
    split = piper_engine._split[piper_engine.default_voice]
    assert split is not None
    _, timed_in_pieces = _speak(piper_engine, TEXT)
    piper_engine._split[piper_engine.default_voice] = None  # as a voice that cannot be split
    try:
        chunks, timed_whole = _speak(piper_engine, TEXT)
    finally:
        piper_engine._split[piper_engine.default_voice] = split
    assert len(chunks) == 3  # sentence, silence, sentence
    assert timed_in_pieces == timed_whole
    assert len(timed_in_pieces) == len(TEXT.split())


def test_a_first_sentence_too_short_to_split_is_one_piece(piper_engine: PiperEngine) -> None:
    hop = int(piper_engine._voice(piper_engine.default_voice).config.hop_length)
    chunks, _ = _speak(piper_engine, "Hi.")
    assert len(chunks) == 1
    assert len(chunks[0]) <= (EARLY_FRAMES + DECODER_CONTEXT) * hop
    assert np.array_equal(chunks[0], _piper_alone(piper_engine, "Hi."))


def test_only_the_generation_s_first_sentence_is_split(piper_engine: PiperEngine) -> None:
    second = "The smell of fresh bread drifts down the street and wakes the neighbours."
    chunks, _ = _speak(piper_engine, TEXT)
    # The second segment is piper's one run, bit for bit.
    assert np.array_equal(chunks[-1], _piper_alone(piper_engine, second))


def test_turns_side_by_side_split_the_first_sentence_too() -> None:
    engine = PiperEngine()
    engine.scheduler.slots = 2  # sessions of the cores' share (set before loading)
    engine.load()
    split = engine._split[engine.default_voice]
    assert split is not None
    assert (
        split.decoder.get_session_options().intra_op_num_threads
        == engine._voice(engine.default_voice).session.get_session_options().intra_op_num_threads
    )
    chunks, _ = _speak(engine, FIRST)
    assert len(chunks) == 2
    assert np.abs(np.concatenate(chunks) - _piper_alone(engine, FIRST)).max() < 1e-5
