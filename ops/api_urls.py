from django.urls import path

from ops import api

urlpatterns = [
    path("health", api.HealthDetailView.as_view(), name="api-health"),
]
