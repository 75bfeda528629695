from django.urls import path

from synthesis import api, preview_api

urlpatterns = [
    path("synthesis", api.JobListCreateView.as_view(), name="api-synthesis"),
    path("synthesis/stream", api.JobStreamView.as_view(), name="api-synthesis-stream"),
    path("synthesis/stream/with-timings", api.JobStreamTimingsView.as_view(), name="api-synthesis-stream-with-timings"),
    path("synthesis/bulk-delete", api.JobBulkDeleteView.as_view(), name="api-synthesis-bulk-delete"),
    path("synthesis/<uuid:job_id>", api.JobDetailView.as_view(), name="api-synthesis-detail"),
    path("synthesis/<uuid:job_id>/cancel", api.JobCancelView.as_view(), name="api-synthesis-cancel"),
    path("synthesis/<uuid:job_id>/audio", api.JobAudioView.as_view(), name="api-synthesis-audio"),
    path("synthesis/<uuid:job_id>/timings", api.JobTimingsView.as_view(), name="api-synthesis-timings"),
    path("synthesis/<uuid:job_id>/captions", api.JobCaptionsView.as_view(), name="api-synthesis-captions"),
    path("usage", api.UsageView.as_view(), name="api-usage"),
    path("voices/<uuid:voice_id>/preview", preview_api.VoicePreviewView.as_view(), name="api-voice-preview"),
]
