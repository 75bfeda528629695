"""OpenAPI declarations of audio responses: one entry per content type actually sent
(docs/api.md "Audio formats"), so a generated client and a schema checker see the truth."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse

from speech import audio as audiomod

PCM_DESCRIPTION = (
    "raw pcm is audio/pcm;rate=<Hz>;channels=1: signed 16-bit little-endian mono samples, "
    "with the rate also in X-Sample-Rate (X-Channels: 1, X-Sample-Format: s16le)"
)


def audio_responses(
    formats: Iterable[str], description: str, *, content_types: dict[str, str] | None = None
) -> dict[Any, Any]:
    """`extend_schema(responses=…)` entries for a 200 answered with audio in `formats`
    (Speaker's names; `content_types` overrides a format's type, e.g. OpenAI's opus)."""
    types = {**audiomod.CONTENT_TYPES, **(content_types or {})}
    formats = list(formats)
    # One description per status code in OpenAPI: it covers every content type.
    text = f"{description}. Formats: " + ", ".join(f"{fmt} as {types[fmt]}" for fmt in formats) + "."
    if "pcm" in formats:
        text += f" The {PCM_DESCRIPTION}."
    return {(200, types[fmt]): OpenApiResponse(OpenApiTypes.BINARY, description=text) for fmt in formats}
