"""The engine registry: which engines run here, why not, lazy loading."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from speech.engines import EngineConfig, EngineRegistry, EngineUnavailable
from speech.engines.piper_engine import PiperEngine

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str) -> str:
    """Run code in a fresh interpreter (module state and imports of its own)."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_status_reports_every_engine_without_loading_any_model() -> None:
    out = run_python(
        """
        import sys
        from speech.engines import EngineConfig, EngineRegistry
        registry = EngineRegistry(EngineConfig())
        for s in registry.status():
            print(s.name, s.available, s.loaded, bool(s.reason))
        print("heavy", any(m in sys.modules for m in ("torch", "TTS", "onnxruntime")))
        """
    )
    assert out.splitlines() == ["piper True False False", "xtts False False True", "heavy False"]


def test_an_empty_engine_list_means_every_engine_that_can_run_here(tiny_xtts_dir: Path) -> None:
    assert EngineRegistry(EngineConfig()).available_names() == ["piper"]
    assert EngineRegistry(EngineConfig(xtts_model_dir=tiny_xtts_dir)).available_names() == ["piper", "xtts"]


def test_only_enabled_engines_are_offered(tiny_xtts_dir: Path) -> None:
    registry = EngineRegistry(EngineConfig(enabled=["xtts"], xtts_model_dir=tiny_xtts_dir))
    assert [s.name for s in registry.status()] == ["xtts"]
    with pytest.raises(EngineUnavailable, match="not enabled"):
        registry.get("piper")
    with pytest.raises(EngineUnavailable, match="unknown engine"):
        registry.get("espeak")


def test_an_unknown_engine_in_the_settings_fails_loudly() -> None:
    with pytest.raises(ValueError, match="espeak"):
        EngineConfig(enabled=["piper", "espeak"])
    with pytest.raises(ValueError):
        EngineConfig(default_engine="nope")


def test_engine_names_from_settings_are_normalised() -> None:
    assert EngineConfig(enabled=[" Piper ", "", "XTTS"]).enabled == ["piper", "xtts"]


def test_the_default_engine_falls_back_to_one_that_can_run() -> None:
    registry = EngineRegistry(EngineConfig(default_engine="xtts"))
    assert registry.default_name() == "piper"
    assert registry.default().name == "piper"


def test_an_engine_loads_once_even_when_many_threads_ask_at_once() -> None:
    loads: list[int] = []

    class CountingPiper(PiperEngine):
        def _load(self) -> None:
            loads.append(1)
            super()._load()

    registry = EngineRegistry(EngineConfig(enabled=["piper"]), factories={"piper": CountingPiper})
    barrier = threading.Barrier(6)
    engines: list[object] = []

    def ask() -> None:
        barrier.wait()
        engines.append(registry.get("piper"))

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(loads) == 1 and len(engines) == 6 and len({id(e) for e in engines}) == 1
    [status] = registry.status()
    assert status.loaded and status.load_seconds is not None


def test_the_cloning_engine_is_xtts_when_it_can_run(engine_registry: EngineRegistry) -> None:
    engine = engine_registry.cloning_engine()
    assert engine is not None and engine.name == "xtts" and engine.clones


def test_builtin_voices_come_from_every_available_engine(engine_registry: EngineRegistry) -> None:
    voices = {(v.engine, v.name) for v in engine_registry.builtin_voices()}
    assert ("piper", "joe") in voices and ("xtts", "Tiny Alice") in voices


def test_status_is_plain_data_for_the_api(engine_registry: EngineRegistry) -> None:
    for status in engine_registry.status():
        data = status.to_dict()
        assert set(data) >= {
            "name",
            "available",
            "reason",
            "loaded",
            "load_seconds",
            "languages",
            "clones",
            "device",
            "sample_rate",
        }
        assert isinstance(data["languages"], list)


def test_unload_all_frees_models_and_they_load_again_on_demand() -> None:
    registry = EngineRegistry(EngineConfig(enabled=["piper"]))
    engine = registry.get("piper")
    registry.unload_all()
    assert not engine.is_loaded and engine.load_seconds is None
    assert registry.get("piper").is_loaded
