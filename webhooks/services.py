"""Managing webhook endpoints (docs/webhooks.md): create, change, delete, rotate the
signing secret, send a test event, redeliver. Creation, rotation and deletion are
audited; the secret is returned by creation and rotation only."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.errors import ApiError, Conflict, Unprocessable
from monitoring.services import audit_record
from webhooks.events import TEST_EVENT, WEBHOOK_EVENTS
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.outbox import deliveries_create, event_body, local_wakeup
from webhooks.signing import secret_generate
from webhooks.ssrf import url_form_problem, url_problem

PREVIOUS_SECRET_LIFETIME = timedelta(hours=24)


@dataclass(frozen=True)
class EndpointWithSecret:
    """An endpoint and its signing secret in plain text, which exists only here, once."""

    endpoint: WebhookEndpoint
    secret: str


def _check_url(url: str) -> None:
    if problem := url_form_problem(url):
        raise ApiError(problem, details={"url": [problem]})
    # Well-formed but not allowed here (plain http in production, an internal address):
    # a 422, as no schema can say it.
    problem = url_problem(
        url, require_https=settings.WEBHOOK_REQUIRE_HTTPS, allowed_hosts=settings.WEBHOOK_ALLOWED_HOSTS
    )
    if problem:
        raise Unprocessable(problem, details={"url": [problem]})


def _check_events(events: Iterable[str]) -> list[str]:
    wanted = list(dict.fromkeys(events))
    unknown = sorted(set(wanted) - set(WEBHOOK_EVENTS))
    if unknown or not wanted:
        message = f"Unknown event type(s): {', '.join(unknown)}." if unknown else "Choose at least one event type."
        raise ApiError(message, details={"events": [f"Choose from {', '.join(WEBHOOK_EVENTS)}."]})
    return wanted


def _audit(action: str, endpoint: WebhookEndpoint, **details: Any) -> None:
    audit_record(
        action=action,
        user=endpoint.owner,
        target_type="webhook_endpoint",
        target_id=str(endpoint.pk),
        details={"url": endpoint.url, **details},
    )


def endpoint_create(
    *, owner: User, url: str, events: Iterable[str], description: str = "", enabled: bool = True
) -> EndpointWithSecret:
    _check_url(url)
    chosen = _check_events(events)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=owner.pk).first()  # one count at a time per account
        if WebhookEndpoint.objects.filter(owner=owner).count() >= settings.WEBHOOK_MAX_ENDPOINTS:
            raise Conflict(
                f"An account has at most {settings.WEBHOOK_MAX_ENDPOINTS} webhook endpoints; delete one first.",
                details={"limit": settings.WEBHOOK_MAX_ENDPOINTS},
            )
        secret = secret_generate()
        endpoint = WebhookEndpoint.objects.create(
            owner=owner, url=url, events=chosen, description=description, enabled=enabled, secret=secret
        )
        _audit("webhook.created", endpoint, events=chosen)
    return EndpointWithSecret(endpoint=endpoint, secret=secret)


def endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    events: Iterable[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    """Change what is given. Enabling an endpoint (again) clears why it was disabled."""
    if url is not None:
        _check_url(url)
        endpoint.url = url
    if events is not None:
        endpoint.events = _check_events(events)
    if description is not None:
        endpoint.description = description
    if enabled is not None:
        if enabled and not endpoint.enabled:
            endpoint.disabled_reason = ""
            endpoint.failing_since = None
        endpoint.enabled = enabled
    endpoint.save()
    return endpoint


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    _audit("webhook.deleted", endpoint)
    endpoint.delete()


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> EndpointWithSecret:
    """A new secret; the old one keeps signing beside it for 24 hours, so receivers can
    switch without losing a delivery."""
    secret = secret_generate()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + PREVIOUS_SECRET_LIFETIME
    endpoint.secret = secret
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    _audit("webhook.secret_rotated", endpoint)
    return EndpointWithSecret(endpoint=endpoint, secret=secret)


def endpoint_send_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A `webhook.test` event to this endpoint alone, whatever it subscribes to."""
    body = event_body(event=TEST_EVENT, payload={"endpoint_id": endpoint.pk, "message": "A test event from Speaker."})
    return deliveries_create(endpoints=[endpoint], body=body)[0]


def delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again now, with its own `webhook-id` (receivers deduplicate on it;
    this is the same message). One being sent right now is left alone."""
    WebhookDelivery.objects.filter(pk=delivery.pk).exclude(status=WebhookDelivery.Status.DELIVERING).update(
        status=WebhookDelivery.Status.PENDING, next_attempt_at=timezone.now(), error=""
    )
    transaction.on_commit(local_wakeup.set)
    delivery.refresh_from_db()
    return delivery
