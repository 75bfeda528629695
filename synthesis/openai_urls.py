from django.urls import path

from synthesis import openai_api

urlpatterns = [
    path("audio/speech", openai_api.SpeechView.as_view(), name="openai-speech"),
]
