"""The event types a webhook endpoint may subscribe to: the final events of jobs,
productions and voices, the same names and payloads as the websocket's (docs/api.md
"Live events"). `webhook.test` is sent only by "send a test event", to one endpoint."""

from __future__ import annotations

from typing import Final

WEBHOOK_EVENTS: Final[tuple[str, ...]] = (
    "job.completed",
    "job.failed",
    "job.cancelled",
    "production.completed",
    "production.failed",
    "voice.ready",
    "voice.failed",
)
TEST_EVENT: Final = "webhook.test"
