"""Speech engines behind one interface (see base.py) and the registry that picks them.

    from speech.engines import EngineConfig, EngineRegistry, VoiceRef
    registry = EngineRegistry(EngineConfig())
    pcm = registry.get("piper").synthesize_all("Hello!", language="en", voice=VoiceRef("joe"))

Importing this package is cheap: torch, coqui-tts and onnxruntime load with a model.
"""

from speech.engines.base import (
    BuiltinVoice,
    Engine,
    GenerationStats,
    ProgressCallback,
    SynthesisPlan,
    SynthesisStream,
    VoiceRef,
)
from speech.engines.errors import (
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
from speech.engines.params import SynthesisParams
from speech.engines.registry import (
    KNOWN_ENGINES,
    EngineConfig,
    EngineRegistry,
    EngineStatus,
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
    "ProgressCallback",
    "SynthesisParams",
    "SynthesisPlan",
    "SynthesisStream",
    "UnsupportedLanguage",
    "VoiceNotSupported",
    "VoiceRef",
]
