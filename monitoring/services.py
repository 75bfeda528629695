"""The one audit function, used by every app for every sensitive action."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from core.context import current
from monitoring.models import AuditEvent

logger = logging.getLogger("speaker.audit")
_file_lock = threading.Lock()
# Never let a secret reach the audit trail, whatever a caller passes in `details`.
_SECRET_WORDS = ("password", "secret", "token", "plaintext", "authorization")


def _scrub(details: Mapping[str, Any]) -> dict[str, Any]:
    return {k: ("[redacted]" if any(w in k.lower() for w in _SECRET_WORDS) else v) for k, v in details.items()}


def audit_record(
    *,
    action: str,
    user: Any = None,
    api_key_prefix: str | None = None,
    target_type: str = "",
    target_id: str = "",
    outcome: str = AuditEvent.Outcome.SUCCESS,
    details: Mapping[str, Any] | None = None,
    username: str | None = None,
    keep_user_agent: bool = True,
) -> AuditEvent:
    """Store an audit row and append it as one JSON line to AUDIT_LOG_FILE. Who, from
    where and which request come from the request context (core.context); `user` and
    `api_key_prefix` name the actor when it is not the caller; `username` names one
    who is not a user (a failed sign-in's typed name); `keep_user_agent=False` leaves
    the client's user agent out (an erased account's entry keeps id, time and address
    only: docs/privacy.md)."""
    ctx = current()
    if user is None:
        user = ctx.authenticated_user
    if api_key_prefix is None:
        api_key_prefix = ctx.api_key_prefix
    event = AuditEvent.objects.create(
        user=user if user is not None and getattr(user, "pk", None) else None,
        username=(username if username is not None else getattr(user, "username", "") or "")[:150],
        api_key_prefix=api_key_prefix or "",
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        outcome=outcome,
        client_ip=ctx.client_ip,
        user_agent=ctx.user_agent if keep_user_agent else "",
        request_id="" if ctx.request_id == "-" else ctx.request_id,
        details=_scrub(details or {}),
    )
    _append_line(event)
    return event


def _append_line(event: AuditEvent) -> None:
    line = json.dumps(
        {
            "time": event.created_at.isoformat(),
            "user": event.username or None,
            "user_id": event.user_id,
            "api_key_prefix": event.api_key_prefix or None,
            "action": event.action,
            "target_type": event.target_type or None,
            "target_id": event.target_id or None,
            "outcome": event.outcome,
            "client_ip": event.client_ip,
            "user_agent": event.user_agent or None,
            "request_id": event.request_id or None,
            "details": event.details,
        },
        default=str,
    )
    path = settings.AUDIT_LOG_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _file_lock, open(path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    except OSError:
        # The row is the record of truth; a full or read-only disk must not fail the action.
        logger.exception("could not append to the audit log file %s", path)
