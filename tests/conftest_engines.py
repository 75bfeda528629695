"""Engine fixtures shared by every test folder that needs real speech engines.

`tests/speech/conftest.py` imports them; another folder can do the same, or the
root conftest can list this module in `pytest_plugins`. The expensive objects (the
tiny XTTS checkpoint, loaded engines, prepared voices) are built once per process
even when two conftests register these fixtures, because they are cached here.

Nothing here needs Django or a database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest

from speech.audio import encode, resample
from speech.engines import EngineConfig, EngineRegistry, SynthesisParams
from speech.engines.piper_engine import PiperEngine
from speech.engines.xtts_engine import XTTSEngine
from tests.tiny_xtts import build_tiny_xtts

T = TypeVar("T")
_cache: dict[str, Any] = {}
_cache_lock = threading.Lock()


def _once(key: str, build: Callable[[], T]) -> T:
    with _cache_lock:
        if key not in _cache:
            _cache[key] = build()
        return _cache[key]


# Fast, deterministic XTTS generations on the tiny model: random weights never stop
# by themselves, so every test caps the number of audio tokens.
TINY_XTTS_PARAMS = SynthesisParams(do_sample=False, seed=7, max_new_tokens=8, sentence_silence=0.05)


@dataclass(frozen=True)
class ReferenceSamples:
    """Reference recordings made with Piper (a real voice, not noise)."""

    neutral: Path  # ~3 s, joe reading calmly
    happy: Path  # joe with the happy prosody preset, other words
    other_speaker: Path  # joe pitched up by resampling: a clearly different voice


@pytest.fixture(scope="session")
def tiny_xtts_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random XTTS v2 checkpoint folder (config.json, vocab.json, model.pth,
    speakers_xtts.pth), built once per test session."""
    return _once("tiny_xtts_dir", lambda: build_tiny_xtts(tmp_path_factory.mktemp("tiny-xtts")))


@pytest.fixture(scope="session")
def piper_engine() -> PiperEngine:
    def build() -> PiperEngine:
        engine = PiperEngine()
        engine.load()
        return engine

    return _once("piper_engine", build)


@pytest.fixture(scope="session")
def engine_registry(tiny_xtts_dir: Path) -> EngineRegistry:
    """Both engines through the production registry, XTTS on the tiny checkpoint."""
    return _once(
        "engine_registry",
        lambda: EngineRegistry(
            # One torch thread: test machines are small and often busy, where OpenMP's
            # spin-waiting makes 2 threads several times slower than 1.
            EngineConfig(enabled=["piper", "xtts"], xtts_model_dir=tiny_xtts_dir, xtts_device="cpu", xtts_threads=1)
        ),
    )


@pytest.fixture(scope="session")
def xtts_engine(engine_registry: EngineRegistry) -> XTTSEngine:
    engine = engine_registry.get("xtts")
    assert isinstance(engine, XTTSEngine)
    return engine


@pytest.fixture(scope="session")
def reference_samples(tmp_path_factory: pytest.TempPathFactory, piper_engine: PiperEngine) -> ReferenceSamples:
    def build() -> ReferenceSamples:
        folder = tmp_path_factory.mktemp("references")
        rate = piper_engine.sample_rate
        neutral = piper_engine.synthesize_all(
            "This is my voice, recorded for cloning. I read a few calm sentences so the model can hear me.",
            language="en",
        )
        happy = piper_engine.synthesize_all(
            "What a wonderful day it is! I am so glad you came to see me.",
            language="en",
            params=SynthesisParams(emotion="happy"),
        )
        # Played back at a higher rate: higher pitch, faster, a different "speaker".
        other = resample(neutral, rate, int(rate * 0.8))
        paths = ReferenceSamples(folder / "neutral.wav", folder / "happy.flac", folder / "other.wav")
        paths.neutral.write_bytes(encode(neutral, rate, "wav"))
        paths.happy.write_bytes(encode(happy, rate, "flac"))
        paths.other_speaker.write_bytes(encode(other, rate, "wav"))
        return paths

    return _once("reference_samples", build)


@pytest.fixture(scope="session")
def cloned_voice(xtts_engine: XTTSEngine, reference_samples: ReferenceSamples) -> bytes:
    """Conditioning for a voice with neutral and happy samples."""
    return _once(
        "cloned_voice",
        lambda: xtts_engine.prepare_voice({"neutral": [reference_samples.neutral], "happy": [reference_samples.happy]}),
    )


@pytest.fixture(scope="session")
def other_cloned_voice(xtts_engine: XTTSEngine, reference_samples: ReferenceSamples) -> bytes:
    return _once(
        "other_cloned_voice", lambda: xtts_engine.prepare_voice({"neutral": [reference_samples.other_speaker]})
    )


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0
