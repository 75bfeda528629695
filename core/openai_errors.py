"""OpenAI-shaped error bodies for the OpenAI-compatible route (/v1/audio/speech), so that
the official `openai` client raises its usual typed errors."""

from __future__ import annotations

from django.http import JsonResponse

_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
          404: "invalid_request_error", 409: "invalid_request_error", 429: "rate_limit_error",
          503: "server_error", 500: "server_error"}


def openai_error(status: int, message: str, code: str | None = None, param: str | None = None) -> JsonResponse:
    return JsonResponse(
        {"error": {"message": message, "type": _TYPES.get(status, "invalid_request_error"), "param": param, "code": code}},
        status=status,
    )
