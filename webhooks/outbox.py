"""The webhook outbox: every user event passes through `core.events.send_user_event`,
which calls `webhook_event_enqueue` (registered by webhooks.apps). A subscribed event
becomes one `WebhookDelivery` row per subscribed endpoint, in the announcing
transaction when there is one, so the webhook's `data` is the websocket event's payload
and a rolled-back transition sends neither. The delivery loop (webhooks.delivery) sends
the rows."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from webhooks.events import WEBHOOK_EVENTS
from webhooks.models import WebhookDelivery, WebhookEndpoint

# Loops in this process wait on it, so a delivery queued here is sent at once instead
# of at the next poll (a loop in another process finds it at its next poll).
local_wakeup = threading.Event()


def event_body(*, event: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The Standard Webhooks payload: `type`, `timestamp`, `data`, and the event's id
    (the same for every endpoint the event goes to)."""
    data = json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    return {"id": f"evt_{uuid.uuid4().hex}", "type": event, "timestamp": timezone.now().isoformat(), "data": data}


def deliveries_create(*, endpoints: list[WebhookEndpoint], body: dict[str, Any]) -> list[WebhookDelivery]:
    now = timezone.now()
    with transaction.atomic():  # a savepoint: a failure here leaves the caller's transaction usable
        created = WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(
                    endpoint=endpoint, event_id=body["id"], event_type=body["type"], body=body, next_attempt_at=now
                )
                for endpoint in endpoints
            ]
        )
    transaction.on_commit(local_wakeup.set)
    return created


def webhook_event_enqueue(user_id: int, event: str, payload: dict[str, Any]) -> None:
    if event not in WEBHOOK_EVENTS:
        return
    endpoints = [e for e in WebhookEndpoint.objects.filter(owner_id=user_id, enabled=True) if event in e.events]
    if endpoints:
        deliveries_create(endpoints=endpoints, body=event_body(event=event, payload=payload))
