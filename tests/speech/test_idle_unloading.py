"""Idle unloading in the speech library (docs/operations.md "Idle unloading"): an
engine whose model has served nothing for a while frees it, and the next request loads
it again and sounds the same. Time is a `ManualClock` the test moves by hand (the
engine's `clock`), so nothing here sleeps."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from speech.engines import EngineConfig, EngineRegistry
from speech.engines.base import VoiceRef
from speech.engines.piper_engine import PiperEngine
from speech.engines.xtts_engine import XTTSEngine
from tests.conftest_engines import TINY_XTTS_PARAMS

IDLE_FOR = 300.0
TEXT = "The lights are off. Nobody has asked for a while."


class ManualClock:
    """A monotonic clock that moves only when the test says so (a clock mock)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _with_manual_clock(engine, clock: ManualClock):  # type: ignore[no-untyped-def]
    engine.clock = clock
    engine._touch()  # "last used" on the test's clock from now on
    return engine


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def piper(clock: ManualClock) -> PiperEngine:
    """A Piper engine of its own (the shared one must stay loaded for other tests)."""
    engine = PiperEngine()
    engine.load()
    return _with_manual_clock(engine, clock)


def test_a_piper_model_unused_for_the_idle_time_is_unloaded_and_loads_again_on_the_next_request(piper, clock):
    before = piper.synthesize_all(TEXT, language="en")
    first_load = piper.loaded_at
    assert piper.loads == 1

    clock.advance(IDLE_FOR - 1)
    assert piper.unload_if_idle(IDLE_FOR) is False  # not yet
    assert piper.is_loaded

    clock.advance(1)
    assert piper.idle_seconds() == IDLE_FOR
    assert piper.unload_if_idle(IDLE_FOR) is True
    assert not piper.is_loaded
    assert piper._split == {} and piper._loaded == {}  # the sessions are gone
    assert piper.idle_seconds() is None  # nothing loaded: nothing to unload
    assert piper.loaded_at == first_load  # the last load is still told
    assert piper.unloaded_at is not None

    after = piper.synthesize_all(TEXT, language="en")  # loads again by itself
    assert piper.is_loaded and piper.loads == 2
    assert piper.loaded_at >= first_load
    np.testing.assert_array_equal(after, before)


def test_a_model_is_not_unloaded_while_a_generation_is_under_way_even_between_its_turns(piper, clock):
    stream = piper.synthesize("One sentence. Then another one. And a third.", language="en")
    with stream:
        next(stream)  # mid-generation: the stream holds its place
        clock.advance(IDLE_FOR * 10)
        assert piper.idle_seconds() is None
        assert piper.unload_if_idle(IDLE_FOR) is False
        rest = list(stream)
    assert rest and piper.is_loaded
    # Idle time counts from the end of the last generation, not its start.
    assert piper.idle_seconds() == 0.0
    clock.advance(IDLE_FOR)
    assert piper.unload_if_idle(IDLE_FOR) is True


def test_each_request_restarts_the_idle_time(piper, clock):
    for _ in range(3):
        clock.advance(IDLE_FOR / 2)
        piper.synthesize_all("Still here.", language="en")
        assert piper.unload_if_idle(IDLE_FOR) is False
    clock.advance(IDLE_FOR)
    assert piper.unload_if_idle(IDLE_FOR) is True


def test_the_registry_unloads_only_the_idle_models_and_says_when_the_next_one_is_due(clock):
    registry = EngineRegistry(EngineConfig(enabled=["piper"]))
    engine = _with_manual_clock(registry.get("piper"), clock)
    assert registry.loaded_names() == frozenset({"piper"})
    assert registry.next_idle_unload_in(IDLE_FOR) == IDLE_FOR

    clock.advance(IDLE_FOR - 60)
    assert registry.next_idle_unload_in(IDLE_FOR) == 60
    assert registry.unload_idle(IDLE_FOR) == []

    clock.advance(60)
    assert registry.unload_idle(IDLE_FOR) == ["piper"]
    assert registry.loaded_names() == frozenset()
    assert registry.next_idle_unload_in(IDLE_FOR) is None
    status = registry.status()[0]
    assert (status.loaded, status.loads) == (False, 1)
    assert status.loaded_at == engine.loaded_at and status.unloaded_at is not None

    registry.get("piper")
    status = registry.status()[0]
    assert (status.loaded, status.loads) == (True, 2)


def test_unloading_waits_for_nobody_but_never_cuts_a_turn_short(piper, clock):
    """A generation that starts while the model is being unloaded loads it again."""
    clock.advance(IDLE_FOR)
    results: list[np.ndarray] = []
    unloaded = threading.Event()

    def speak() -> None:
        unloaded.wait(10)
        results.append(piper.synthesize_all("Back again.", language="en"))

    thread = threading.Thread(target=speak)
    thread.start()
    assert piper.unload_if_idle(IDLE_FOR)
    unloaded.set()
    thread.join(60)
    assert results and results[0].size > 0 and piper.is_loaded


@pytest.fixture
def tiny_xtts(tiny_xtts_dir: Path, clock: ManualClock) -> XTTSEngine:
    """The tiny XTTS checkpoint in an engine of its own (tests/tiny_xtts.py)."""
    registry = EngineRegistry(
        EngineConfig(enabled=["xtts"], xtts_model_dir=tiny_xtts_dir, xtts_device="cpu", xtts_threads=1)
    )
    engine = registry.get("xtts")
    assert isinstance(engine, XTTSEngine)
    return _with_manual_clock(engine, clock)


def test_an_idle_xtts_model_frees_its_weights_and_speaks_the_same_after_loading_again(tiny_xtts, clock):
    voice = VoiceRef(builtin="Tiny Alice")
    before = tiny_xtts.synthesize_all("Hello there.", language="en", voice=voice, params=TINY_XTTS_PARAMS)
    model = tiny_xtts._model
    weights = next(model.parameters())
    watcher = _Collected(weights)
    del model, weights

    clock.advance(IDLE_FOR)
    assert tiny_xtts.unload_if_idle(IDLE_FOR)
    assert tiny_xtts._model is None and not tiny_xtts.is_loaded
    # Nothing holds the weights any more: on a GPU their memory is free for torch's
    # cache, which the unload empties (XTTSEngine._release_memory).
    assert watcher.collected()

    started = time.perf_counter()
    after = tiny_xtts.synthesize_all("Hello there.", language="en", voice=voice, params=TINY_XTTS_PARAMS)
    assert time.perf_counter() - started < 120
    assert tiny_xtts.is_loaded and tiny_xtts.loads == 2
    np.testing.assert_array_equal(after, before)


class _Collected:
    """Whether an object has been garbage-collected (a weak reference to it)."""

    def __init__(self, obj: object) -> None:
        import weakref

        self._ref = weakref.ref(obj)

    def collected(self) -> bool:
        return self._ref() is None
