"""Operational endpoints outside the versioned API."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness: answers fast and touches nothing external."""
    return JsonResponse({"status": "ok"})
