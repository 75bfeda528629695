"""XTTS word timings (tiny random checkpoint): segment (sentence) boundaries exact, the
words inside estimated and marked so; monotonic, covering the audio, filled in as each
segment is produced."""

from __future__ import annotations

import numpy as np

from speech.engines import SynthesisParams, VoiceRef
from speech.engines.xtts_engine import XTTSEngine
from speech.timings import ESTIMATED, spoken_words

TEXT = "Hello there, my friend. This is the second sentence."


def test_xtts_timings_are_estimated_and_cover_every_word(xtts_engine: XTTSEngine, cloned_voice: bytes) -> None:
    params = SynthesisParams(seed=7, sentence_silence=0.3, max_new_tokens=40)
    with xtts_engine.synthesize(
        TEXT, language="en", voice=VoiceRef(conditioning=cloned_voice), params=params
    ) as stream:
        chunks = []
        words_seen_at: list[tuple[int, int]] = []  # (samples before this chunk, words known when it came)
        samples = 0
        for chunk in stream:
            words_seen_at.append((samples, len(stream.timings.words)))
            chunks.append(chunk)
            samples += len(chunk)
    audio = np.concatenate(chunks)
    duration = len(audio) / xtts_engine.sample_rate
    timings = stream.timings
    assert timings.method == ESTIMATED
    assert [w.text for w in timings.words] == spoken_words(TEXT)
    last = 0.0
    for word in timings.words:
        assert last <= word.start <= word.end <= duration + 1e-6, timings.words
        last = word.end
    # The first sentence's words are known before the silence after it is handed out,
    # and they all end before it; the second sentence's words start after it.
    first_count = len(spoken_words("Hello there, my friend."))
    boundary = next(before for before, known in words_seen_at if known == first_count)
    silence_end = boundary / xtts_engine.sample_rate + 0.3
    assert all(w.end <= boundary / xtts_engine.sample_rate + 1e-6 for w in timings.words[:first_count])
    assert all(w.start >= silence_end - 1e-6 for w in timings.words[first_count:])
