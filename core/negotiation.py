"""Content negotiation for views that answer with audio files: they return plain Django
responses, so the client's Accept (a browser's `audio/*`) must not make DRF refuse with
406 before the view runs; errors still render as the JSON error body."""

from __future__ import annotations

from typing import Any

from rest_framework.negotiation import BaseContentNegotiation


class AudioContentNegotiation(BaseContentNegotiation):
    def select_parser(self, request: Any, parsers: list[Any]) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Any, renderers: list[Any], format_suffix: str | None = None) -> tuple[Any, str]:
        return renderers[0], renderers[0].media_type
