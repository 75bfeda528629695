"""Re-authentication before an irreversible act (erasing one's account): the one place
that decides whether the person at the keyboard proved again who they are. Today that is
the account's password; a second factor or allauth's own re-authentication replaces
this function's body, not its callers."""

from __future__ import annotations

from django.core.cache import cache

from accounts.models import User
from core.errors import ApiError
from monitoring.models import AuditEvent
from monitoring.services import audit_record

# Wrong passwords accepted per account before re-authentication is refused for a while:
# an erase form must not become a way to guess a stolen session's password.
FAILURE_LIMIT = 5
FAILURE_WINDOW_SECONDS = 15 * 60


def _failures_key(user: User) -> str:
    return f"privacy:reauth-failures:{user.pk}"


def reauthenticate(*, user: User, password: str | None, purpose: str) -> None:
    """Raise a 403 (`reauthentication_failed`) unless `password` is the account's
    password; a 429 after FAILURE_LIMIT wrong ones within FAILURE_WINDOW_SECONDS. Each
    failure is audited with its purpose."""
    key = _failures_key(user)
    failures = cache.get(key, 0)
    if failures >= FAILURE_LIMIT:
        raise ApiError(
            "Too many wrong passwords; wait 15 minutes before trying again.",
            code="rate_limited",
            status_code=429,
            headers={"Retry-After": str(FAILURE_WINDOW_SECONDS)},
        )
    if password and user.has_usable_password() and user.check_password(password):
        cache.delete(key)
        return
    cache.set(key, failures + 1, FAILURE_WINDOW_SECONDS)
    audit_record(
        action="account.reauthentication_failed",
        user=user,
        target_type="user",
        target_id=str(user.pk),
        outcome=AuditEvent.Outcome.FAILURE,
        details={"purpose": purpose},
    )
    raise ApiError(
        "Enter your current password to confirm it is you.",
        code="reauthentication_failed",
        status_code=403,
        details={"password": ["The password is not this account's."]},
    )
