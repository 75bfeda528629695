from django.urls import path

from dashboard import engine_views, privacy_views, production_views, pronunciation_views, views, webhook_views

urlpatterns = [
    path("", views.home, name="home"),
    path("generate/", views.generate, name="generate"),
    path("voices/", views.voices, name="voices"),
    path("voices/new/", views.voice_new, name="voice-new"),
    path("voices/blend/", views.voice_blend, name="voice-blend"),
    path("voices/<uuid:voice_id>/", views.voice_detail, name="voice-detail"),
    path("history/", views.history, name="history"),
    path("keys/", views.keys, name="keys"),
    path("pronunciation/", pronunciation_views.pronunciation, name="pronunciation"),
    path("usage/", views.usage, name="usage"),
    path("webhooks/", webhook_views.webhooks, name="webhooks"),
    path("webhooks/<int:endpoint_id>/", webhook_views.webhook_detail, name="webhook-detail"),
    path("engines/", engine_views.engines, name="engines"),
    path("productions/", production_views.productions, name="productions"),
    path("productions/<uuid:production_id>/", production_views.production_detail, name="production-detail"),
    path("account/data/", privacy_views.your_data, name="privacy"),
    path("cloning-attestation/", views.cloning_attestation, name="cloning-attestation"),
]
