from django.urls import path

from ops import views

urlpatterns = [
    path("health", views.health, name="health"),
    path("health/ready", views.health_ready, name="health-ready"),
    path("metrics", views.metrics_json, name="metrics"),
    path("prometheus", views.prometheus, name="prometheus"),
]
