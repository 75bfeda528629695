"""ElevenLabs-compatible routes, mounted at the site root (speaker_site/urls.py). GET
/v1/models is shared with the OpenAI-compatible API: the wiring mounts it and sends the
callers that send `xi-api-key` to elevenlabs_api.api.ModelsView (core.api_families.by_family)."""

from django.urls import path

from elevenlabs_api import api, pronunciation_api

urlpatterns = [
    path("v1/text-to-speech/<str:voice_id>", api.SpeechView.as_view(), name="elevenlabs-tts"),
    path("v1/text-to-speech/<str:voice_id>/stream", api.SpeechView.as_view(), name="elevenlabs-tts-stream"),
    path(
        "v1/text-to-speech/<str:voice_id>/with-timestamps",
        api.SpeechWithTimestampsView.as_view(),
        name="elevenlabs-tts-timestamps",
    ),
    path(
        "v1/text-to-speech/<str:voice_id>/stream/with-timestamps",
        api.SpeechStreamWithTimestampsView.as_view(),
        name="elevenlabs-tts-stream-timestamps",
    ),
    path(
        "v1/pronunciation-dictionaries/add-from-file",
        pronunciation_api.AddFromFileView.as_view(),
        name="elevenlabs-dictionary-add-from-file",
    ),
    path(
        "v1/pronunciation-dictionaries/add-from-rules",
        pronunciation_api.AddFromRulesView.as_view(),
        name="elevenlabs-dictionary-add-from-rules",
    ),
    path("v1/pronunciation-dictionaries", pronunciation_api.ListView.as_view(), name="elevenlabs-dictionaries"),
    path(
        "v1/pronunciation-dictionaries/<str:dictionary_id>",
        pronunciation_api.DetailView.as_view(),
        name="elevenlabs-dictionary",
    ),
    path(
        "v1/pronunciation-dictionaries/<str:dictionary_id>/add-rules",
        pronunciation_api.AddRulesView.as_view(),
        name="elevenlabs-dictionary-add-rules",
    ),
    path(
        "v1/pronunciation-dictionaries/<str:dictionary_id>/remove-rules",
        pronunciation_api.RemoveRulesView.as_view(),
        name="elevenlabs-dictionary-remove-rules",
    ),
    path(
        "v1/pronunciation-dictionaries/<str:dictionary_id>/<str:version_id>/download",
        pronunciation_api.DownloadView.as_view(),
        name="elevenlabs-dictionary-download",
    ),
    path("v1/voices", api.VoicesView.as_view(), name="elevenlabs-voices"),
    path("v1/voices/add", api.VoiceAddView.as_view(), name="elevenlabs-voice-add"),
    path(
        "v1/voices/settings/default", api.VoiceSettingsDefaultView.as_view(), name="elevenlabs-voice-settings-default"
    ),
    path("v1/voices/<str:voice_id>", api.VoiceDetailView.as_view(), name="elevenlabs-voice"),
    path("v1/voices/<str:voice_id>/settings", api.VoiceSettingsView.as_view(), name="elevenlabs-voice-settings"),
    path(
        "v1/voices/<str:voice_id>/settings/edit",
        api.VoiceSettingsEditView.as_view(),
        name="elevenlabs-voice-settings-edit",
    ),
    path("v2/voices", api.VoicesSearchView.as_view(), name="elevenlabs-voices-search"),
    path("v1/user", api.UserView.as_view(), name="elevenlabs-user"),
    path("v1/user/subscription", api.SubscriptionView.as_view(), name="elevenlabs-subscription"),
    path("v1/history", api.HistoryView.as_view(), name="elevenlabs-history"),
    path("v1/history/<str:item_id>", api.HistoryItemView.as_view(), name="elevenlabs-history-item"),
    path("v1/history/<str:item_id>/audio", api.HistoryAudioView.as_view(), name="elevenlabs-history-audio"),
]
