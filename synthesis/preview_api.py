"""`GET /api/v1/voices/{id}/preview`: the voice speaks a sample sentence. Routed with the
voice endpoints (voices/api_urls.py includes nothing from synthesis: the route is added
in synthesis/api_urls.py, since a preview is a synthesis job)."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from core.negotiation import AudioContentNegotiation
from core.openapi import COMMON_ERRORS, error
from synthesis.preview import voice_preview
from voices.selectors import voice_get_visible


class VoicePreviewView(APIView):
    """A short sample sentence in the voice (wav), generated once and cached until the
    voice changes."""

    content_negotiation_class = AudioContentNegotiation
    required_scopes = {"GET": {"voices:read"}}

    @extend_schema(
        responses={
            (200, "audio/wav"): OpenApiResponse(OpenApiTypes.BINARY, description="Preview audio"),
            404: error("Unknown voice, or another user's", "not_found", "Not found."),
            409: error("Voice not ready or its engine is missing", "conflict", "Voice cloning needs the xtts engine."),
            503: error("The server is busy", "service_unavailable", "The server is busy; try again shortly."),
            **COMMON_ERRORS,
        },
        tags=["voices"],
        summary="Preview a voice",
    )
    def get(self, request: Request, voice_id: Any) -> FileResponse:
        voice = voice_get_visible(user=request.user, voice_id=voice_id)
        path = voice_preview(user=request.user, voice=voice)
        return FileResponse(open(path, "rb"), content_type="audio/wav", filename=f"preview-{voice.pk}.wav")
