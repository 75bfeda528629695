"""ElevenLabs-shaped error bodies for the ElevenLabs-compatible routes:
`{"detail": {"status": "...", "message": "..."}}`, which the official `elevenlabs` SDK
hands to its callers as `ApiError.body` (docs/compatibility.md "ElevenLabs-compatible API"); registered
as the `elevenlabs` family (core.api_families) for the errors answered before a view
(URL 404s, NUL refusals, rate limits)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpResponse, JsonResponse

# The header ElevenLabs clients send their key in: it marks a request as theirs.
ELEVENLABS_KEY_HEADER = "xi-api-key"
# Speaker's codes (core.errors.CODES_BY_STATUS) in ElevenLabs' words, where it has one.
_CODES = {
    "validation_error": "invalid_request",
    "not_authenticated": "needs_authorization",
    "rate_limited": "too_many_requests",
    "permission_denied": "missing_permissions",
}


def elevenlabs_error(status: int, message: str, code: str, *, headers: Mapping[str, str] | None = None) -> JsonResponse:
    """`code` is a short snake_case word (ElevenLabs' `status` field: `invalid_api_key`,
    `voice_not_found`, `quota_exceeded`, ...); `message` says what is wrong and what to do."""
    response = JsonResponse({"detail": {"status": code, "message": message}}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def render(
    *, status: int, code: str, message: str, field: str | None, details: Mapping[str, Any], headers: Mapping[str, str]
) -> HttpResponse:
    """The `elevenlabs` family's renderer (core.api_families.ErrorRenderer)."""
    return elevenlabs_error(status, message, _CODES.get(code, code), headers=headers)
