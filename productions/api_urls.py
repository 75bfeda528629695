from django.urls import path

from productions import api

urlpatterns = [
    path("productions", api.ProductionListCreateView.as_view(), name="api-productions"),
    path("productions/<uuid:production_id>", api.ProductionDetailView.as_view(), name="api-production-detail"),
    path("productions/<uuid:production_id>/pause", api.ProductionPauseView.as_view(), name="api-production-pause"),
    path("productions/<uuid:production_id>/resume", api.ProductionResumeView.as_view(), name="api-production-resume"),
    path("productions/<uuid:production_id>/cancel", api.ProductionCancelView.as_view(), name="api-production-cancel"),
    path("productions/<uuid:production_id>/chapters", api.ChapterListView.as_view(), name="api-production-chapters"),
    path("productions/<uuid:production_id>/segments", api.SegmentListView.as_view(), name="api-production-segments"),
    path(
        "productions/<uuid:production_id>/segments/<int:index>/regenerate",
        api.SegmentRegenerateView.as_view(),
        name="api-production-segment-regenerate",
    ),
    path(
        "productions/<uuid:production_id>/segments/<int:index>/audio",
        api.SegmentAudioView.as_view(),
        name="api-production-segment-audio",
    ),
    path("productions/<uuid:production_id>/audio", api.ProductionAudioView.as_view(), name="api-production-audio"),
    path(
        "productions/<uuid:production_id>/chapters/<int:chapter>/audio",
        api.ChapterAudioView.as_view(),
        name="api-production-chapter-audio",
    ),
    path("productions/<uuid:production_id>/captions", api.CaptionsView.as_view(), name="api-production-captions"),
]
