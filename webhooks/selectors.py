"""Reads of webhook endpoints and their deliveries, always through the owner."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from webhooks.models import WebhookDelivery, WebhookEndpoint


def endpoints_listed(*, user: Any) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(owner=user)


def endpoint_get(*, user: Any, endpoint_id: int) -> WebhookEndpoint:
    """The caller's endpoint, or 404 (another account's endpoint does not exist for it)."""
    return get_object_or_404(WebhookEndpoint, pk=endpoint_id, owner=user)


def deliveries_listed(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-created_at")


def delivery_get(*, endpoint: WebhookEndpoint, delivery_id: Any) -> WebhookDelivery:
    return get_object_or_404(WebhookDelivery, pk=delivery_id, endpoint=endpoint)


def endpoints_failing_count() -> int:
    return WebhookEndpoint.objects.filter(enabled=True, failing_since__isnull=False).count()
