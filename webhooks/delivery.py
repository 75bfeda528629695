"""Sending the outbox (docs/webhooks.md "Delivery"): deliveries are rows claimed with a
lease like jobs (synthesis/queue.py), so a loop killed mid-request loses nothing: its
lease runs out and another loop sends the same message again (same `webhook-id`).

    pending ──claim (lease, attempts+1)──▶ delivering ──2xx──▶ succeeded
       ▲                                    │   │
       └── other answer, timeout, refused ──┘   └── 410, out of attempts, endpoint
           (next try after RETRY_DELAYS[n])         disabled ──▶ failed
    delivering with its lease expired ──claim again──▶ delivering

Only the lease holder records an attempt (a conditional UPDATE). Every function takes
`now`, the clock, so a test can move time instead of waiting for the backoff.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from monitoring.metrics import webhook_observe
from monitoring.services import audit_record
from webhooks import transport
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.signing import signature_header

logger = logging.getLogger("speaker.webhooks")
Clock = Callable[[], datetime]
Status = WebhookDelivery.Status

# Seconds before each retry: about a day of tries in all (7 attempts).
RETRY_DELAYS: Final[tuple[int, ...]] = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600)
JITTER: Final = 0.1  # each delay ±10 %, so endpoints that failed together do not retry together
STORED_BODY_CHARS: Final = 1024


def retry_delay(attempt: int) -> timedelta | None:
    """The wait after failed attempt number `attempt` (1-based); None when it was the last."""
    if attempt > len(RETRY_DELAYS):
        return None
    base = RETRY_DELAYS[attempt - 1]
    return timedelta(seconds=base * random.uniform(1 - JITTER, 1 + JITTER))


def _due(now: datetime) -> Q:
    return Q(status=Status.PENDING, next_attempt_at__lte=now) | Q(status=Status.DELIVERING, lease_expires_at__lt=now)


def delivery_claim(*, worker_id: str, now: Clock = timezone.now) -> WebhookDelivery | None:
    """Lease the most overdue delivery to `worker_id`."""
    moment = now()
    # A plain read first: the idle poll takes no lock (on SQLite a transaction here would
    # take the database's write lock every poll).
    if not WebhookDelivery.objects.filter(_due(moment)).exists():
        return None
    with transaction.atomic():
        candidates = WebhookDelivery.objects.filter(_due(moment)).order_by("next_attempt_at")
        if settings.USING_POSTGRES:
            candidates = candidates.select_for_update(skip_locked=True)
        delivery = candidates.first()
        if delivery is None:
            return None
        # Conditional: on SQLite (no row locks) this is what makes a claim unique.
        claimed = WebhookDelivery.objects.filter(_due(moment), pk=delivery.pk).update(
            status=Status.DELIVERING,
            lease_owner=worker_id,
            lease_expires_at=moment + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS),
            attempts=F("attempts") + 1,
            last_attempt_at=moment,
        )
        if not claimed:
            return None
    delivery.refresh_from_db()
    return delivery


def _signing_secrets(endpoint: WebhookEndpoint, moment: datetime) -> list[str]:
    found = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_expires_at
        and endpoint.previous_secret_expires_at > moment
    ):
        found.append(endpoint.previous_secret)
    return found


def delivery_request(delivery: WebhookDelivery, *, moment: datetime) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one attempt (a new timestamp each time, the same id)."""
    body = json.dumps(delivery.body, separators=(",", ":")).encode()
    timestamp = int(moment.timestamp())
    headers = {
        "content-type": "application/json",
        "user-agent": "Speaker-Webhooks/1",
        "webhook-id": delivery.webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            secrets_=_signing_secrets(delivery.endpoint, moment),
            msg_id=delivery.webhook_id,
            timestamp=timestamp,
            body=body,
        ),
    }
    return body, headers


def _stored(body: bytes, truncated: bool) -> str:
    text = body[:STORED_BODY_CHARS].decode("utf-8", errors="replace").replace("\x00", "\ufffd")
    return text + ("…" if truncated or len(body) > STORED_BODY_CHARS else "")


def delivery_attempt(*, delivery: WebhookDelivery, worker_id: str, now: Clock = timezone.now) -> str:
    """Send a claimed delivery once and record how it went; returns the outcome."""
    endpoint = delivery.endpoint
    moment = now()
    if not endpoint.enabled:
        _finish(delivery, worker_id, status=Status.FAILED, error="The endpoint is disabled.", next_at=None)
        return "disabled"
    body, headers = delivery_request(delivery, moment=moment)
    started = time.monotonic()
    answer: transport.Answer | None = None
    error = ""
    try:
        answer = transport.post(
            endpoint.url,
            body=body,
            headers=headers,
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            max_body=settings.WEBHOOK_MAX_RESPONSE_BYTES,
            allowed_hosts=settings.WEBHOOK_ALLOWED_HOSTS,
        )
        outcome = "success" if 200 <= answer.status < 300 else ("gone" if answer.status == 410 else "http_error")
        if answer.truncated:
            error = f"The answer was longer than {settings.WEBHOOK_MAX_RESPONSE_BYTES} bytes; the rest was not read."
    except transport.DeliveryRefused as exc:
        outcome, error = "refused", f"Refused: {exc}."
    except transport.DeliveryTimeout as exc:
        outcome, error = "timeout", f"Timed out: {exc}."
    except (OSError, ValueError) as exc:  # connection refused or reset, TLS, a malformed answer
        outcome, error = "connection_error", f"Could not deliver: {exc}"[:500]
    except Exception as exc:  # http.client's protocol errors; the attempt still counts
        outcome, error = "connection_error", f"Could not deliver: {type(exc).__name__}: {exc}"[:500]
    seconds = time.monotonic() - started
    webhook_observe(outcome=outcome, seconds=seconds)

    response = {
        "response_status": answer.status if answer else None,
        "response_body": _stored(answer.body, answer.truncated) if answer else "",
        "duration_ms": int(seconds * 1000),
    }
    if outcome == "success":
        _finish(
            delivery, worker_id, status=Status.SUCCEEDED, error=error, next_at=None, delivered_at=moment, **response
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        return outcome
    if outcome == "gone":
        _finish(
            delivery, worker_id, status=Status.FAILED, error="The receiver answered 410 Gone.", next_at=None, **response
        )
        endpoint_disable(endpoint=endpoint, reason="The receiver answered 410 Gone: the endpoint was disabled.")
        return outcome
    delay = retry_delay(delivery.attempts)
    if delay is None:
        _finish(delivery, worker_id, status=Status.FAILED, error=error, next_at=None, **response)
    else:
        _finish(delivery, worker_id, status=Status.PENDING, error=error, next_at=moment + delay, **response)
    _endpoint_failed(endpoint, moment)
    return outcome


def _finish(
    delivery: WebhookDelivery, worker_id: str, *, status: str, error: str, next_at: datetime | None, **fields
) -> bool:  # type: ignore[no-untyped-def]
    """Record the attempt, if the lease is still ours (a loop that overran its lease must
    not overwrite the attempt of the loop that took the delivery over)."""
    return bool(
        WebhookDelivery.objects.filter(pk=delivery.pk, status=Status.DELIVERING, lease_owner=worker_id).update(
            status=status, error=error[:500], next_attempt_at=next_at, lease_owner="", lease_expires_at=None, **fields
        )
    )


def _endpoint_failed(endpoint: WebhookEndpoint, moment: datetime) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=moment)
    endpoint.refresh_from_db(fields=["failing_since", "enabled"])
    limit = timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS)
    if endpoint.enabled and endpoint.failing_since is not None and moment - endpoint.failing_since >= limit:
        endpoint_disable(
            endpoint=endpoint,
            reason=f"Every delivery failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC: "
            "the endpoint was disabled.",
        )


def endpoint_disable(*, endpoint: WebhookEndpoint, reason: str) -> None:
    """The delivery loop gives up on an endpoint; its owner reads `reason` in the
    dashboard and re-enables it when the receiver is fixed."""
    if WebhookEndpoint.objects.filter(pk=endpoint.pk, enabled=True).update(enabled=False, disabled_reason=reason):
        audit_record(
            action="webhook.disabled",
            user=endpoint.owner,
            outcome="failure",
            target_type="webhook_endpoint",
            target_id=str(endpoint.pk),
            details={"url": endpoint.url, "reason": reason},
        )


def deliveries_prune(*, now: Clock = timezone.now) -> int:
    """Finished deliveries older than WEBHOOK_LOG_DAYS leave the log."""
    cutoff = now() - timedelta(days=settings.WEBHOOK_LOG_DAYS)
    deleted, _ = WebhookDelivery.objects.filter(
        created_at__lt=cutoff, status__in=[Status.SUCCEEDED, Status.FAILED]
    ).delete()
    return deleted


def deliveries_run_due(*, worker_id: str, now: Clock = timezone.now, limit: int = 100) -> int:
    """Claim and send due deliveries one after another until none is due (or `limit`)."""
    sent = 0
    while sent < limit:
        delivery = delivery_claim(worker_id=worker_id, now=now)
        if delivery is None:
            break
        try:
            delivery_attempt(delivery=delivery, worker_id=worker_id, now=now)
        except Exception:  # the database went away mid-attempt: the lease brings it back
            logger.exception("webhook delivery %s failed unexpectedly", delivery.pk)
        sent += 1
    return sent
