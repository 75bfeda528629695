"""The process-wide engine registry, built from Django settings.

The speech library (`speech/`) knows nothing of Django; this module is the one place
that reads the engine settings into an `EngineConfig` and keeps one registry per
process (docs/ARCHITECTURE.md, "Layers")."""

from __future__ import annotations

import threading
from pathlib import Path

from django.conf import settings

from speech.engines.registry import EngineConfig, EngineRegistry

_registry: EngineRegistry | None = None
_registry_lock = threading.Lock()


def xtts_model_dir() -> Path | None:
    """Where the XTTS checkpoint is (or goes): XTTS_MODEL_DIR, else the default folder
    `manage.py xtts install` fills. With COQUI_TOS_AGREED=true and nothing installed
    there, None: coqui may then fetch xtts_v2 itself."""
    if settings.XTTS_MODEL_DIR:
        return Path(settings.XTTS_MODEL_DIR)
    default = getattr(settings, "XTTS_DEFAULT_MODEL_DIR", None)
    if default is None:
        return None
    default = Path(default)
    if settings.COQUI_TOS_AGREED and not (default / "config.json").is_file():
        return None
    return default


def config_from_settings() -> EngineConfig:
    """Read the engine settings (speaker_site/settings.py, each always defined) into an
    `EngineConfig`."""
    return EngineConfig(
        enabled=list(settings.TTS_ENGINES),
        default_engine=settings.TTS_DEFAULT_ENGINE,
        piper_voices_dir=Path(settings.PIPER_VOICES_DIR) if settings.PIPER_VOICES_DIR else None,
        xtts_model_dir=xtts_model_dir(),
        xtts_device=settings.XTTS_DEVICE,
        xtts_half=settings.XTTS_HALF,
        xtts_deepspeed=settings.XTTS_DEEPSPEED,
        starvation_turns=settings.ENGINE_STARVATION_TURNS,
        parallel_turns=settings.ENGINE_PARALLEL_TURNS,
        coqui_tos_agreed=settings.COQUI_TOS_AGREED,
        xtts_threads=settings.XTTS_THREADS or None,  # 0: torch's default
    )


def get_registry() -> EngineRegistry:
    """The process-wide registry, built from Django settings on first use."""
    global _registry
    if _registry is None:
        with _registry_lock:
            if _registry is None:
                _registry = EngineRegistry(config_from_settings())
    return _registry


def reset_registry() -> None:
    """Forget the process-wide registry (tests; settings changes). Unloads its models."""
    global _registry
    with _registry_lock:
        old, _registry = _registry, None
    if old is not None:
        old.unload_all()
