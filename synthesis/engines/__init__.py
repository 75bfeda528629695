"""Speech engines behind one interface (see base.py) and the registry that picks them.

    from synthesis.engines import EngineConfig, EngineRegistry, VoiceRef, SynthesisParams
    registry = EngineRegistry(EngineConfig())
    pcm = registry.get("piper").synthesize_all("Hello!", language="en", voice=VoiceRef("joe"))

Importing this package is cheap: torch, coqui-tts and onnxruntime load with a model.
"""

from synthesis.engines.base import (
    BuiltinVoice,
    Engine,
    GenerationStats,
    SynthesisStream,
    VoiceRef,
)
from synthesis.engines.errors import (
    ConditioningMissing,
    EngineBusy,
    EngineError,
    EngineUnavailable,
    InvalidParams,
    InvalidSample,
    InvalidText,
    UnsupportedLanguage,
    VoiceNotSupported,
)
from synthesis.engines.params import SynthesisParams
from synthesis.engines.registry import (
    KNOWN_ENGINES,
    EngineConfig,
    EngineRegistry,
    EngineStatus,
    get_registry,
    reset_registry,
)

__all__ = [
    "KNOWN_ENGINES",
    "BuiltinVoice",
    "ConditioningMissing",
    "Engine",
    "EngineBusy",
    "EngineConfig",
    "EngineError",
    "EngineRegistry",
    "EngineStatus",
    "EngineUnavailable",
    "GenerationStats",
    "InvalidParams",
    "InvalidSample",
    "InvalidText",
    "SynthesisParams",
    "SynthesisStream",
    "UnsupportedLanguage",
    "VoiceNotSupported",
    "VoiceRef",
    "get_registry",
    "reset_registry",
]
