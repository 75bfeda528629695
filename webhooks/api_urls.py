from django.urls import path

from webhooks import api

urlpatterns = [
    path("webhooks", api.EndpointListCreateView.as_view(), name="api-webhooks"),
    path("webhooks/<int:endpoint_id>", api.EndpointDetailView.as_view(), name="api-webhook-detail"),
    path("webhooks/<int:endpoint_id>/rotate-secret", api.RotateSecretView.as_view(), name="api-webhook-rotate"),
    path("webhooks/<int:endpoint_id>/test", api.SendTestView.as_view(), name="api-webhook-test"),
    path("webhooks/<int:endpoint_id>/deliveries", api.DeliveryListView.as_view(), name="api-webhook-deliveries"),
    path(
        "webhooks/<int:endpoint_id>/deliveries/<uuid:delivery_id>/redeliver",
        api.RedeliverView.as_view(),
        name="api-webhook-redeliver",
    ),
]
