"""Which engines this process runs, whether each can run here, and why not.

`EngineRegistry` is plain Python, built from an `EngineConfig`; the platform keeps
one per process, built from its settings, in `core.engines`. Engines load lazily,
once, on the first `get`; `status()` never loads a model.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from speech.engines.base import BuiltinVoice, Engine
from speech.engines.errors import EngineError, EngineUnavailable
from speech.engines.piper_engine import PiperEngine
from speech.engines.xtts_engine import XTTSEngine

logger = logging.getLogger(__name__)

# In preference order: the embedded default first.
KNOWN_ENGINES: tuple[str, ...] = ("piper", "xtts")


@dataclass
class EngineConfig:
    enabled: list[str] = field(default_factory=list)  # empty: every engine that can load here
    default_engine: str = "piper"
    piper_voices_dir: Path | None = None
    xtts_model_dir: Path | None = None
    xtts_device: str = "auto"
    xtts_half: bool = False
    xtts_deepspeed: bool = False
    coqui_tos_agreed: bool = False
    xtts_threads: int | None = None  # torch CPU threads; None: torch's default
    # Fair scheduling (scheduling.py): turns a lower class may be passed over in a row,
    # and turns one model may run at once where its engine allows (XTTS: always 1).
    starvation_turns: int = 4
    parallel_turns: int = 1

    def __post_init__(self) -> None:
        self.enabled = [name.strip().lower() for name in self.enabled if name and name.strip()]
        unknown = [name for name in self.enabled if name not in KNOWN_ENGINES]
        if unknown:
            raise ValueError(f"unknown engine(s) {', '.join(unknown)}; known: {', '.join(KNOWN_ENGINES)}")
        self.default_engine = (self.default_engine or "piper").strip().lower()
        if self.default_engine not in KNOWN_ENGINES:
            raise ValueError(f"unknown default engine {self.default_engine!r}")
        self.piper_voices_dir = Path(self.piper_voices_dir) if self.piper_voices_dir else None
        self.xtts_model_dir = Path(self.xtts_model_dir) if self.xtts_model_dir else None


@dataclass(frozen=True)
class EngineStatus:
    name: str
    available: bool
    reason: str | None
    loaded: bool
    load_seconds: float | None
    languages: tuple[str, ...]
    clones: bool
    device: str
    sample_rate: int
    note: str | None = None  # context for an available engine (e.g. pending download)
    # The last load and unload, as Unix times (an idle-unloaded engine keeps its last
    # load time), and how many times this process has loaded it.
    loaded_at: float | None = None
    unloaded_at: float | None = None
    loads: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["languages"] = list(self.languages)
        return data


class EngineRegistry:
    def __init__(self, config: EngineConfig, *, factories: dict[str, Callable[[], Engine]] | None = None) -> None:
        self.config = config
        self._names: tuple[str, ...] = tuple(config.enabled) if config.enabled else KNOWN_ENGINES
        builders = factories or self._default_factories(config)
        # Constructing an engine is cheap (no imports of torch or onnx, no weights).
        self._engines: dict[str, Engine] = {name: builders[name]() for name in self._names}
        for engine in self._engines.values():
            engine.scheduler.starvation_turns = max(1, int(config.starvation_turns))
            engine.scheduler.slots = max(1, min(engine.max_parallel_turns, int(config.parallel_turns)))
        self._failures: dict[str, str] = {}
        self._locks: dict[str, threading.Lock] = {name: threading.Lock() for name in self._names}

    @staticmethod
    def _default_factories(config: EngineConfig) -> dict[str, Callable[[], Engine]]:
        return {
            "piper": lambda: PiperEngine(voices_dir=config.piper_voices_dir),
            "xtts": lambda: XTTSEngine(
                model_dir=config.xtts_model_dir,
                device=config.xtts_device,
                half=config.xtts_half,
                deepspeed=config.xtts_deepspeed,
                tos_agreed=config.coqui_tos_agreed,
                threads=config.xtts_threads,
            ),
        }

    # ------------------------------------------------------------------ status

    @property
    def names(self) -> tuple[str, ...]:
        """Engines this registry considers (enabled ones, or all known)."""
        return self._names

    def reason(self, name: str) -> str | None:
        """Why `name` cannot be used here, or None. Cheap: never loads a model."""
        if name not in KNOWN_ENGINES:
            return f"unknown engine {name!r}"
        if name not in self._engines:
            return f"the {name} engine is not enabled (TTS_ENGINES={','.join(self._names)})"
        if name in self._failures:
            return self._failures[name]
        return self._engines[name].unavailable_reason()

    def status(self) -> list[EngineStatus]:
        out = []
        for name in self._names:
            engine = self._engines[name]
            reason = self.reason(name)
            out.append(
                EngineStatus(
                    name=name,
                    available=reason is None,
                    reason=reason,
                    loaded=engine.is_loaded,
                    load_seconds=engine.load_seconds,
                    languages=tuple(engine.languages),
                    clones=engine.clones,
                    device=str(engine.device),
                    sample_rate=int(engine.sample_rate),
                    note=engine.status_note() if reason is None else None,
                    loaded_at=engine.loaded_at,
                    unloaded_at=engine.unloaded_at,
                    loads=engine.loads,
                )
            )
        return out

    def available_names(self) -> list[str]:
        return [name for name in self._names if self.reason(name) is None]

    # ------------------------------------------------------------------- access

    def engine(self, name: str) -> Engine:
        """The engine object without loading it (for cheap questions)."""
        reason = self.reason(name)
        if name not in self._engines:
            raise EngineUnavailable(reason or f"unknown engine {name!r}", engine=name)
        return self._engines[name]

    def get(self, name: str) -> Engine:
        """The loaded engine; loads it on first use (once, thread-safe). A failed load
        is remembered so later calls answer at once with the same reason."""
        reason = self.reason(name)
        if reason is not None:
            raise EngineUnavailable(reason, engine=name)
        engine = self._engines[name]
        if engine.is_loaded:
            return engine
        with self._locks[name]:
            if name in self._failures:
                raise EngineUnavailable(self._failures[name], engine=name)
            try:
                engine.load()
            except EngineError as exc:
                self._failures[name] = exc.message
                logger.error("engine %s unavailable: %s", name, exc.message)
                raise EngineUnavailable(exc.message, engine=name) from exc
            logger.info("engine %s loaded in %.2fs on %s", name, engine.load_seconds or 0.0, engine.device)
        return engine

    def default_name(self) -> str | None:
        """The configured default engine when it can run here, else the first that can."""
        available = self.available_names()
        if self.config.default_engine in available:
            return self.config.default_engine
        return available[0] if available else None

    def default(self) -> Engine:
        name = self.default_name()
        if name is None:
            raise EngineUnavailable("no speech engine can run here: " + self._reasons(), engine=None)
        return self.get(name)

    def cloning_engine(self) -> Engine | None:
        """The first available engine that clones voices (loaded), or None."""
        for name in self.available_names():
            if not self._engines[name].clones:
                continue
            try:
                return self.get(name)
            except EngineUnavailable:
                continue
        return None

    def builtin_voices(self) -> list[BuiltinVoice]:
        """Built-in voices of every available engine (without loading models)."""
        voices: list[BuiltinVoice] = []
        for name in self.available_names():
            try:
                voices.extend(self._engines[name].builtin_voices())
            except Exception:  # a broken speakers file must not hide the other voices
                logger.exception("listing %s built-in voices failed", name)
        return voices

    def loaded_names(self) -> frozenset[str]:
        """The engines whose model is loaded in this process now (cheap)."""
        return frozenset(name for name, engine in self._engines.items() if engine.is_loaded)

    def unload_idle(self, idle_for: float) -> list[str]:
        """Unload every model that has served nothing for `idle_for` seconds (idle
        unloading, docs/operations.md); the next request loads it again. Returns the
        engines unloaded now."""
        unloaded = []
        for name, engine in self._engines.items():
            with self._locks[name]:  # not while `get` is loading it
                if engine.unload_if_idle(idle_for):
                    unloaded.append(name)
        return unloaded

    def next_idle_unload_in(self, idle_for: float) -> float | None:
        """Seconds until the first loaded, idle model reaches `idle_for` (0 when one
        already has); None when none is loaded and idle."""
        waits = [
            max(0.0, idle_for - idle)
            for engine in self._engines.values()
            if (idle := engine.idle_seconds()) is not None
        ]
        return min(waits) if waits else None

    def unload_all(self) -> None:
        for engine in self._engines.values():
            if engine.is_loaded:
                engine.unload()
        self._failures.clear()

    def _reasons(self) -> str:
        return "; ".join(f"{name}: {self.reason(name)}" for name in self._names)
