"""What the dashboard's forms show besides data: the parameter sliders, help texts for
scopes and emotions, language names, percentages, the usage page's date presets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.utils import timezone
from django.utils.translation import get_language_info

from speech.engines.params import PARAM_RANGES, SynthesisParams

# What an ordinary user reads while no cloning engine runs here: the engine's reason names
# settings, folders and commands that only the operator can act on (staff see those).
CLONING_OFF_FOR_USERS = "Voice cloning is not enabled on this server yet — ask your administrator."

SCOPE_HELP = {
    "voices:read": "List voices and languages, download your samples",
    "voices:write": "Create, change and delete your voices and samples",
    "synthesis:write": "Generate speech, read history and usage, download audio",
    "keys:manage": "Create and revoke API keys",
    "webhooks:manage": "Add, change and delete webhook endpoints, read their deliveries",
}

EMOTION_HELP = {
    "neutral": "Plain reading (the default)",
    "happy": "Brighter and a little faster",
    "sad": "Slower and softer",
    "angry": "Faster and more forceful",
    "surprised": "Livelier, more varied",
    "whisper": "Quiet and breathy",
    "calm": "Slow and even",
}


@dataclass(frozen=True)
class Slider:
    """One synthesis parameter as a range input. Bounds and defaults come from
    `SynthesisParams` (the server's validation), labels and steps are the page's."""

    name: str
    label: str
    help: str
    step: float
    group: str  # "basic" (every engine) or "xtts" (sampling knobs of cloned voices)
    low_exclusive_step: bool = False

    @property
    def default(self) -> float:
        return getattr(SynthesisParams(), self.name)

    @property
    def min(self) -> float:
        low, _, low_incl, _ = PARAM_RANGES[self.name]
        return low if low_incl else low + self.step

    @property
    def max(self) -> float:
        _, high, _, high_incl = PARAM_RANGES[self.name]
        return high if high_incl else high - self.step


SLIDERS: tuple[Slider, ...] = (
    Slider("speed", "Speed", "1.0 is natural pace; 0.5 is half speed, 2.0 twice as fast.", 0.05, "basic"),
    Slider("variability", "Variability", "How much the delivery varies (built-in voices).", 0.001, "basic"),
    Slider(
        "sentence_silence", "Pause between sentences (s)", "Silence after each sentence, in seconds.", 0.05, "basic"
    ),
    Slider("temperature", "Temperature", "Higher is more expressive, lower more stable (cloned voices).", 0.01, "xtts"),
    Slider("top_p", "Top-p", "Sampling nucleus: lower is more conservative (cloned voices).", 0.01, "xtts"),
    Slider("top_k", "Top-k", "Sample among the k most likely tokens (cloned voices).", 1, "xtts"),
    Slider("repetition_penalty", "Repetition penalty", "Discourages repeated sounds (cloned voices).", 0.5, "xtts"),
    Slider(
        "length_penalty", "Length penalty", "Favours longer (positive) or shorter output (cloned voices).", 0.5, "xtts"
    ),
)


def language_name(code: str) -> str:
    try:
        return str(get_language_info(code)["name"])
    except KeyError:
        return code


def language_choices(codes: Iterable[str]) -> list[dict[str, str]]:
    return [{"code": code, "name": language_name(code)} for code in codes]


def percent(part: float, whole: float) -> int:
    """A progress bar's width: 0 to 100 (a zero limit reads as full)."""
    if whole <= 0:
        return 100
    return max(0, min(100, round(100 * part / whole)))


def usage_presets() -> list[tuple[str, str]]:
    """(label, query) links for the usage page's common ranges, ending today."""
    today = timezone.localdate()
    month_first = today.replace(day=1)
    return [
        ("Last 7 days", urlencode({"from": (today - timedelta(days=6)).isoformat(), "to": today.isoformat()})),
        ("Last 30 days", urlencode({"from": (today - timedelta(days=29)).isoformat(), "to": today.isoformat()})),
        ("This month", urlencode({"from": month_first.isoformat(), "to": today.isoformat()})),
        ("Last 90 days", urlencode({"from": (today - timedelta(days=89)).isoformat(), "to": today.isoformat()})),
    ]
