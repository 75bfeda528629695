"""The one audit function, used by every app for every sensitive action."""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
from typing import Any, Mapping

from django.conf import settings
from django.http import HttpRequest

from monitoring.models import AuditEvent

logger = logging.getLogger("speaker.audit")
_file_lock = threading.Lock()
# Never let a secret reach the audit trail, whatever a caller passes in `details`.
_SECRET_WORDS = ("password", "secret", "token", "plaintext", "authorization")


def _scrub(details: Mapping[str, Any]) -> dict[str, Any]:
    return {k: ("[redacted]" if any(w in k.lower() for w in _SECRET_WORDS) else v) for k, v in details.items()}


def _ip(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    raw = request.META.get("REMOTE_ADDR", "")
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def audit_record(
    *,
    action: str,
    request: HttpRequest | None = None,
    user: Any = None,
    api_key_prefix: str | None = None,
    target_type: str = "",
    target_id: str = "",
    outcome: str = AuditEvent.Outcome.SUCCESS,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Store an audit row and append it as one JSON line to AUDIT_LOG_FILE."""
    django_request = getattr(request, "_request", request)
    if user is None and django_request is not None:
        candidate = getattr(django_request, "user", None)
        user = candidate if candidate is not None and candidate.is_authenticated else None
    if api_key_prefix is None and django_request is not None:
        key = getattr(django_request, "_speaker_api_key", None)
        api_key_prefix = key.prefix if key is not None else ""
    event = AuditEvent.objects.create(
        user=user if user is not None and getattr(user, "pk", None) else None,
        username=getattr(user, "username", "") or "",
        api_key_prefix=api_key_prefix or "",
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        outcome=outcome,
        client_ip=_ip(django_request),
        user_agent=(django_request.headers.get("User-Agent", "")[:512] if django_request is not None else ""),
        request_id=getattr(django_request, "request_id", "") if django_request is not None else "",
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
