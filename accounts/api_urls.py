from django.urls import path

from accounts import api

urlpatterns = [
    path("me", api.MeView.as_view(), name="api-me"),
    path("keys", api.KeyListCreateView.as_view(), name="api-keys"),
    path("keys/<int:key_id>", api.KeyDetailView.as_view(), name="api-key-detail"),
]
