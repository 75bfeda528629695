"""ElevenLabs-shaped error bodies for the ElevenLabs-compatible routes (elevenlabs_api/):
`{"detail": {"status": "...", "message": "..."}}`, which the official `elevenlabs` SDK
hands to its callers as `ApiError.body` (docs/compatibility.md "ElevenLabs-compatible API"). Here in
core so that the rate limiter (accounts) answers ElevenLabs clients in their shape too."""

from __future__ import annotations

from typing import Mapping

from django.http import HttpRequest, JsonResponse

# The header ElevenLabs clients send their key in: it marks a request as theirs.
ELEVENLABS_KEY_HEADER = "xi-api-key"


def is_elevenlabs_request(request: HttpRequest) -> bool:
    return bool(request.headers.get(ELEVENLABS_KEY_HEADER)) or request.path.startswith("/v2/")


def elevenlabs_error(
    status: int, message: str, code: str, *, headers: Mapping[str, str] | None = None
) -> JsonResponse:
    """`code` is a short snake_case word (ElevenLabs' `status` field: `invalid_api_key`,
    `voice_not_found`, `quota_exceeded`, ...); `message` says what is wrong and what to do."""
    response = JsonResponse({"detail": {"status": code, "message": message}}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response
