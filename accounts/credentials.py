"""Whether an API key still holds, for a long-lived connection that authenticated with
it (a websocket re-checks it while it lives)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from accounts.models import APIKey

KEY_REVOKED = "key_revoked"
KEY_EXPIRED = "key_expired"
ACCOUNT_DISABLED = "account_disabled"


def apikey_standing(*, api_key_id: int) -> tuple[str | None, datetime | None]:
    """Why the key no longer holds (`key_revoked`, `account_disabled`, `key_expired`;
    None while it does), and when it expires by itself."""
    key = APIKey.objects.filter(pk=api_key_id).values("revoked_at", "expires_at", "user__is_active").first()
    if key is None or key["revoked_at"] is not None:
        return KEY_REVOKED, None
    if not key["user__is_active"]:
        return ACCOUNT_DISABLED, None
    if key["expires_at"] is not None and key["expires_at"] <= timezone.now():
        return KEY_EXPIRED, None
    return None, key["expires_at"]
