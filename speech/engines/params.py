"""Per-request synthesis parameters, validated once at the edge.

`SynthesisParams` validates itself on construction, so an out-of-range value can never
reach an engine; `from_dict` adds type checks and rejects unknown keys for data that
comes from a request body.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from speech.engines.errors import InvalidParams
from speech.text import EMOTIONS

# (low, high, low_inclusive, high_inclusive) for every bounded number.
PARAM_RANGES: dict[str, tuple[float, float, bool, bool]] = {
    "speed": (0.25, 4.0, True, True),
    "temperature": (0.01, 2.0, True, True),
    "top_p": (0.0, 1.0, False, True),
    "top_k": (1, 200, True, True),
    "repetition_penalty": (1.0, 50.0, True, True),
    "length_penalty": (-10.0, 10.0, True, True),
    "variability": (0.0, 2.0, True, True),
    "sentence_silence": (0.0, 5.0, True, True),
    "max_new_tokens": (1, 10_000, True, True),
    "seed": (0, 2**63 - 1, True, True),
}

_FLOATS = ("speed", "temperature", "top_p", "repetition_penalty", "length_penalty", "variability", "sentence_silence")
_INTS = ("top_k", "seed", "max_new_tokens")
_OPTIONAL = ("seed", "emotion", "max_new_tokens")


@dataclass(frozen=True)
class SynthesisParams:
    """How to speak. XTTS uses the sampling knobs; Piper uses speed, variability and
    sentence_silence. Both use emotion (default for text without a tag)."""

    speed: float = 1.0
    temperature: float = 0.75
    top_p: float = 0.85
    top_k: int = 50
    repetition_penalty: float = 10.0
    length_penalty: float = 1.0
    seed: int | None = None
    do_sample: bool = True
    variability: float = 0.667
    sentence_silence: float = 0.2
    emotion: str | None = None
    max_new_tokens: int | None = None

    def __post_init__(self) -> None:
        for name in _FLOATS:
            value = getattr(self, name)
            _check_number(name, value, integer=False)
            _check_range(name, float(value))
        for name in _INTS:
            value = getattr(self, name)
            if value is None and name in _OPTIONAL:
                continue
            _check_number(name, value, integer=True)
            _check_range(name, value)
            object.__setattr__(self, name, int(value))
        if not isinstance(self.do_sample, bool):
            raise InvalidParams("do_sample must be true or false", field="do_sample")
        if self.emotion is not None:
            if not isinstance(self.emotion, str) or self.emotion.lower() not in EMOTIONS:
                raise InvalidParams(f"emotion must be one of: {', '.join(EMOTIONS)}", field="emotion")
            # Normalise case without breaking frozenness.
            object.__setattr__(self, "emotion", self.emotion.lower())

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> SynthesisParams:
        """Build from untrusted data (a JSON body). Unknown keys and wrong types raise
        `InvalidParams` naming the field; missing keys take the defaults."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise InvalidParams("params must be an object", field="params")
        known = set(cls.field_names())
        for key in data:
            if key not in known:
                raise InvalidParams(f"unknown parameter {key!r}", field=str(key))
        values: dict[str, Any] = {}
        for key, value in data.items():
            if value is None and key in _OPTIONAL:
                values[key] = None
            elif key in _FLOATS:
                _check_number(key, value, integer=False)
                values[key] = float(value)
            elif key in _INTS:
                _check_number(key, value, integer=True)
                values[key] = int(value)
            elif key == "do_sample":
                if not isinstance(value, bool):
                    raise InvalidParams("do_sample must be true or false", field=key)
                values[key] = value
            elif key == "emotion":
                if not isinstance(value, str):
                    raise InvalidParams("emotion must be a string", field=key)
                values[key] = value
            else:  # pragma: no cover - every field is handled above
                raise InvalidParams(f"unknown parameter {key!r}", field=key)
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> SynthesisParams:
        return dataclasses.replace(self, **changes)


def _check_number(name: str, value: Any, *, integer: bool) -> None:
    # bool is an int subclass in Python; `"speed": true` is a client bug, not 1.0.
    if isinstance(value, bool):
        raise InvalidParams(f"{name} must be a number", field=name)
    if integer:
        # `20.0` is refused, not read as 20: the schema says integer, and a client that
        # sends a float for top_k or seed has a bug worth hearing about (docs/api.md "Errors").
        if not isinstance(value, int):
            raise InvalidParams(f"{name} must be an integer (a whole number such as 20, not 20.0)", field=name)
    else:
        if not isinstance(value, (int, float)):
            raise InvalidParams(f"{name} must be a number", field=name)
        if not math.isfinite(float(value)):
            raise InvalidParams(f"{name} must be a finite number", field=name)


def _check_range(name: str, value: float) -> None:
    low, high, low_incl, high_incl = PARAM_RANGES[name]
    too_low = value < low if low_incl else value <= low
    too_high = value > high if high_incl else value >= high
    if too_low or too_high:
        left = "[" if low_incl else "("
        right = "]" if high_incl else ")"
        raise InvalidParams(f"{name} must be in {left}{low}, {high}{right}, got {value}", field=name)
