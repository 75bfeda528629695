"""OpenAI-compatible routes, mounted at /v1/ (speaker_site/urls.py). GET /v1/models is
shared with the ElevenLabs-compatible API and mounted by the wiring
(core.api_families.by_family)."""

from django.urls import path

from openai_api import api, custom_voices

urlpatterns = [
    path("audio/speech", api.SpeechView.as_view(), name="openai-speech"),
    path("audio/voices", custom_voices.VoicesView.as_view(), name="openai-voices"),
    path("audio/voices/<str:voice_id>", custom_voices.VoiceView.as_view(), name="openai-voice"),
    path("audio/voice_consents", custom_voices.VoiceConsentsView.as_view(), name="openai-voice-consents"),
    path(
        "audio/voice_consents/<str:consent_id>", custom_voices.VoiceConsentView.as_view(), name="openai-voice-consent"
    ),
]
