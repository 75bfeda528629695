"""Typed engine errors.

Every error carries a stable machine-readable `code` (what the API puts in
`{"error": {"code": ...}}`) and a human `message`. The API maps the request errors
(`InvalidText`, `UnsupportedLanguage`, `InvalidParams`) to HTTP 400; the others are
about the server's engines or the stored voice and are for the caller to decide.
"""

from __future__ import annotations

from typing import Any


class EngineError(Exception):
    """Base class: `code` is stable, `message` is for people."""

    code: str = "engine_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = {k: v for k, v in details.items() if v is not None}

    def to_dict(self) -> dict[str, Any]:
        """The body of the platform's one error shape, `{"error": {...}}` (docs/ARCHITECTURE.md)."""
        return {"code": self.code, "message": self.message, "details": dict(self.details)}


class InvalidText(EngineError):
    """Nothing to speak: empty text, only emotion tags, or no letters or digits."""

    code = "invalid_text"


class UnsupportedLanguage(EngineError):
    """The engine (or the chosen voice) does not speak this language here."""

    code = "unsupported_language"

    def __init__(self, message: str, *, language: str | None = None, supported: tuple[str, ...] | None = None) -> None:
        super().__init__(message, language=language, supported=list(supported) if supported else None)
        self.language = language
        self.supported = supported


class InvalidParams(EngineError):
    """A synthesis parameter has the wrong type or is out of range; `field` names it."""

    code = "invalid_params"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message, field=field)
        self.field = field


class InvalidSample(InvalidParams):
    """A reference sample cannot be decoded or is too short to clone from.

    A subclass of `InvalidParams` (field "samples") so the API answers 400 for it too.
    """

    code = "invalid_sample"

    def __init__(self, message: str, *, field: str = "samples") -> None:
        super().__init__(message, field=field)


class EngineUnavailable(EngineError):
    """The engine cannot run here (missing package, missing weights, failed load)."""

    code = "engine_unavailable"

    def __init__(self, message: str, *, engine: str | None = None) -> None:
        super().__init__(message, engine=engine)
        self.engine = engine


class VoiceNotSupported(EngineError):
    """The voice cannot be used with this engine (cloning on Piper, unknown built-in)."""

    code = "voice_not_supported"


class ConditioningMissing(EngineError):
    """A cloned voice has no usable conditioning: none stored, unreadable, or made by
    another checkpoint. The caller should run `prepare_voice` again from the samples."""

    code = "conditioning_missing"


class EngineBusy(EngineError):
    """The calling thread already runs a generation on this engine and tries to start
    another one: waiting for the lock would deadlock, so we refuse instead."""

    code = "engine_busy"
