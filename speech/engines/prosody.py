"""Prosody presets: how an emotion changes delivery when no real style reference exists.

XTTS only falls back to these when a cloned voice has no samples for the emotion;
Piper always uses them. They are deliberately mild: a rough colour, not acting.
"""

from __future__ import annotations

from dataclasses import dataclass

from speech.text import EMOTIONS


@dataclass(frozen=True)
class Prosody:
    speed: float = 1.0  # multiplies the request's speed
    temperature: float = 0.0  # added to XTTS sampling temperature (livelier or flatter)
    noise: float = 1.0  # multiplies Piper's noise scales (more or less variation)
    volume: float = 1.0  # output gain, e.g. a whisper is quieter


PRESETS: dict[str, Prosody] = {
    "neutral": Prosody(),
    "happy": Prosody(speed=1.08, temperature=0.10, noise=1.20),
    "sad": Prosody(speed=0.86, temperature=-0.10, noise=0.80, volume=0.80),
    "angry": Prosody(speed=1.12, temperature=0.15, noise=1.30),
    "surprised": Prosody(speed=1.05, temperature=0.15, noise=1.35),
    "whisper": Prosody(speed=0.92, temperature=-0.05, noise=0.60, volume=0.45),
    "calm": Prosody(speed=0.90, temperature=-0.10, noise=0.70, volume=0.90),
}
assert set(PRESETS) == set(EMOTIONS), "every emotion needs a preset"


def preset(emotion: str) -> Prosody:
    return PRESETS.get(emotion, PRESETS["neutral"])


def clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def spoken_speed(speed: float, prosody: Prosody) -> float:
    """The speaking rate for a segment: the request's `speed` times the preset's, kept
    within what the engines accept."""
    return clamp(speed * prosody.speed, 0.25, 4.0)
