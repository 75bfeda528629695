from django.urls import path

from monitoring import api

urlpatterns = [
    path("health", api.HealthDetailView.as_view(), name="api-health"),
]
