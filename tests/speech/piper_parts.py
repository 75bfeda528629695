"""For the tests of a Piper voice's parts (speech/engines/piper_engine.py, `_SplitVoice`):
what the prior makes of a sentence, with the noise fixed by its one run."""

from __future__ import annotations

from typing import Any

import numpy as np

from speech.engines.piper_engine import PiperEngine


def prior_of(engine: PiperEngine, text: str) -> tuple[Any, np.ndarray, np.ndarray]:
    """The default voice's parts, and the frames and mask its prior gives for the first
    sentence of `text` (with piper's default noise)."""
    voice = engine._voice(engine.default_voice)
    split = engine._split[engine.default_voice]
    assert split is not None
    ids = voice.phonemes_to_ids(voice.phonemize(text)[0])
    inputs = {
        "input": np.array([ids], dtype=np.int64),
        "input_lengths": np.array([len(ids)], dtype=np.int64),
        "scales": np.array([0.667, 1.0, 0.8], dtype=np.float32),  # with noise
    }
    frames, mask, *_ = split.prior.run(None, inputs)
    return split, frames, mask
