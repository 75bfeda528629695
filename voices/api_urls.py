from django.urls import path

from voices import api

urlpatterns = [
    path("voices", api.VoiceListCreateView.as_view(), name="api-voices"),
    path("voices/blend", api.VoiceBlendView.as_view(), name="api-voice-blend"),
    path("voices/<uuid:voice_id>", api.VoiceDetailView.as_view(), name="api-voice-detail"),
    path("voices/<uuid:voice_id>/samples", api.VoiceSamplesView.as_view(), name="api-voice-samples"),
    path(
        "voices/<uuid:voice_id>/samples/<uuid:sample_id>",
        api.VoiceSampleDetailView.as_view(),
        name="api-voice-sample-detail",
    ),
    path(
        "voices/<uuid:voice_id>/samples/<uuid:sample_id>/audio",
        api.VoiceSampleAudioView.as_view(),
        name="api-voice-sample-audio",
    ),
    path("languages", api.LanguagesView.as_view(), name="api-languages"),
    path("cloning-attestation", api.CloningAttestationView.as_view(), name="api-cloning-attestation"),
]
