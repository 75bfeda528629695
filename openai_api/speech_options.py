"""What OpenAI's speech options mean here (docs/compatibility.md "OpenAI's current speech
API"): the models accepted, `instructions` mapped to Speaker's emotion presets and speed,
and the token usage the SSE stream reports."""

from __future__ import annotations

import math
import re

from speech.engines.params import PARAM_RANGES

# OpenAI's instruction-following model, undated and dated (gpt-4o-mini-tts-2025-12-15).
INSTRUCTED_MODEL = "gpt-4o-mini-tts"
_DATED_INSTRUCTED = re.compile(r"^gpt-4o-mini-tts-\d{4}-\d{2}-\d{2}$")
# OpenAI's own limit on `instructions` (kept whole on the job, so bounded).
MAX_INSTRUCTIONS = 4096
# Every model name /v1/audio/speech accepts, as the schema states it.
MODEL_PATTERN = r"^(tts-1|tts-1-hd|gpt-4o-mini-tts(-\d{4}-\d{2}-\d{2})?)$"


def is_instructed_model(model: str) -> bool:
    return model == INSTRUCTED_MODEL or bool(_DATED_INSTRUCTED.match(model))


# A word in `instructions` -> Speaker's emotion preset (speech.text.EMOTIONS). The first
# preset named in the text wins; a word is matched whole, case-insensitively.
EMOTION_WORDS: dict[str, str] = {
    **{
        word: "happy"
        for word in ("happy", "cheerful", "joyful", "upbeat", "excited", "enthusiastic", "warm", "friendly")
    },
    **{
        word: "sad"
        for word in ("sad", "sorrowful", "melancholy", "melancholic", "somber", "sombre", "gloomy", "mournful")
    },
    **{word: "angry" for word in ("angry", "furious", "annoyed", "irritated", "irate", "stern")},
    **{word: "surprised" for word in ("surprised", "astonished", "amazed", "shocked")},
    **{word: "whisper" for word in ("whisper", "whispering", "whispered", "whispery", "hushed")},
    **{word: "calm" for word in ("calm", "soothing", "relaxed", "gentle", "serene", "peaceful", "soft")},
    "neutral": "neutral",
}
# Prosody words -> a factor on `speed` (the result stays within 0.25-4.0).
SPEED_WORDS: dict[str, float] = {
    **dict.fromkeys(("slow", "slowly", "slower", "unhurried", "leisurely"), 0.85),
    **dict.fromkeys(("fast", "quickly", "quick", "faster", "rapid", "rapidly", "brisk", "briskly"), 1.15),
}
_WORD = re.compile(r"[a-z]+")


def instructions_params(instructions: str | None, *, speed: float | None) -> dict[str, object]:
    """Speaker's params for OpenAI's `instructions`: `speed` (scaled by the first prosody
    word, if any) and `emotion` (the first emotion word, if any). Anything else in the
    instructions is not spoken differently; it is kept on the job as given. `speed`
    None: the request sent none, so the voice's own default speed applies (unless a
    prosody word scales the engine's 1.0)."""
    params: dict[str, object] = {"speed": speed} if speed is not None else {}
    if not instructions:
        return params
    words = _WORD.findall(instructions.lower())
    emotion = next((EMOTION_WORDS[w] for w in words if w in EMOTION_WORDS), None)
    if emotion is not None:
        params["emotion"] = emotion
    factor = next((SPEED_WORDS[w] for w in words if w in SPEED_WORDS), None)
    if factor is not None:
        low, high, _, _ = PARAM_RANGES["speed"]
        params["speed"] = round(min(high, max(low, (1.0 if speed is None else speed) * factor)), 4)
    return params


# OpenAI bills gpt-4o-mini-tts in tokens: text in (input and instructions, o200k tokens,
# about 4 characters each in English) and audio out (about 20 tokens a second of speech:
# $12 per million audio tokens is its published $0.015 a minute). Speaker has no
# tokenizer of OpenAI's; these are the same rules of thumb, documented as estimates.
CHARACTERS_PER_TOKEN = 4
AUDIO_TOKENS_PER_SECOND = 20


def speech_usage(*, text: str, instructions: str | None, audio_seconds: float) -> dict[str, int]:
    characters = len(text) + len(instructions or "")
    input_tokens = max(1, math.ceil(characters / CHARACTERS_PER_TOKEN))
    output_tokens = math.ceil(audio_seconds * AUDIO_TOKENS_PER_SECOND)
    return {"input_tokens": input_tokens, "output_tokens": output_tokens, "total_tokens": input_tokens + output_tokens}
