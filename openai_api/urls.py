"""OpenAI-compatible routes, mounted at /v1/ (speaker_site/urls.py). GET /v1/models is
shared with the ElevenLabs-compatible API and mounted by the wiring
(core.api_families.by_family)."""

from django.urls import path

from openai_api import api

urlpatterns = [
    path("audio/speech", api.SpeechView.as_view(), name="openai-speech"),
    path("audio/voices", api.VoicesView.as_view(), name="openai-voices"),
]
