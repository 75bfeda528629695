from django.urls import path

from synthesis import openai_api

urlpatterns = [
    path("audio/speech", openai_api.SpeechView.as_view(), name="openai-speech"),
    path("audio/voices", openai_api.VoicesView.as_view(), name="openai-voices"),
    path("models", openai_api.ModelsView.as_view(), name="openai-models"),
]
