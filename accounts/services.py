"""Business logic for accounts and API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_ratelimit.core import get_usage

from accounts.models import SCOPES, APIKey, User
from core.errors import ApiError, Unprocessable
from core.events import close_key_sockets
from monitoring.services import audit_record

KEY_PREFIX = "spk"
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_PREFIX_LENGTH = 10


@dataclass(frozen=True)
class NewAPIKey:
    """A freshly minted key: `plaintext` exists only here, once."""

    api_key: APIKey
    plaintext: str


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_scopes(scopes: Iterable[str] | None) -> list[str]:
    """`None`, empty or ["all"] means every scope."""
    wanted = list(scopes or [])
    if not wanted or "all" in wanted:
        return list(SCOPES)
    unknown = sorted(set(wanted) - set(SCOPES))
    if unknown:
        raise ApiError(
            f"Unknown scope(s): {', '.join(unknown)}.",
            details={"scopes": [f"Choose from {', '.join(SCOPES)} or all."]},
        )
    return [s for s in SCOPES if s in wanted]


def apikey_create(
    *,
    user: User,
    name: str,
    scopes: Iterable[str] | None = None,
    expires_at: datetime | None = None,
    creator_key: APIKey | None = None,
) -> NewAPIKey:
    """Mint a key for `user`. A key can only mint keys within its own scopes, and never
    one that outlives it: the new key's expiry is capped at the creating key's (omitted,
    or later than the creator's, it becomes the creator's)."""
    chosen = normalise_scopes(scopes)
    if creator_key is not None and not creator_key.has_scopes(set(chosen)):
        raise ApiError(
            "An API key cannot create a key with scopes it does not have.",
            code="permission_denied",
            status_code=403,
            details={"missing_scopes": sorted(set(chosen) - set(creator_key.scopes))},
        )
    if expires_at is not None and expires_at <= timezone.now():
        # Well-formed but refused for its meaning: 422, as a schema cannot say "after now".
        raise Unprocessable("expires_at must be in the future.", details={"expires_at": ["Must be in the future."]})
    if creator_key is not None and creator_key.expires_at is not None:
        if expires_at is None or expires_at > creator_key.expires_at:
            expires_at = creator_key.expires_at
    secret = secrets.token_urlsafe(32)
    for _ in range(5):  # a prefix collision is astronomically rare; retry rather than fail
        prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(_PREFIX_LENGTH))
        try:
            with transaction.atomic():
                api_key = APIKey.objects.create(
                    user=user,
                    name=name,
                    prefix=prefix,
                    secret_hash=_hash_secret(secret),
                    scopes=chosen,
                    expires_at=expires_at,
                )
            break
        except IntegrityError:
            continue
    else:  # pragma: no cover - five collisions in a row
        raise RuntimeError("could not allocate an API key prefix")
    audit_record(
        action="api_key.created",
        user=user,
        api_key_prefix=creator_key.prefix if creator_key else None,
        target_type="api_key",
        target_id=str(api_key.pk),
        details={
            "prefix": prefix,
            "name": name,
            "scopes": chosen,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return NewAPIKey(api_key=api_key, plaintext=f"{KEY_PREFIX}_{prefix}_{secret}")


def apikey_revoke(*, api_key: APIKey, actor: User | None = None) -> APIKey:
    """Irreversible. Open websockets authenticated with the key are closed. `actor`:
    who revoked it when that is not the key's owner (an operator in the admin)."""
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
        audit_record(
            action="api_key.revoked",
            user=actor or api_key.user,
            target_type="api_key",
            target_id=str(api_key.pk),
            details={"prefix": api_key.prefix},
        )
        close_key_sockets(api_key_id=api_key.pk)
    return api_key


def apikey_delete(*, api_key: APIKey) -> APIKey:
    """What the owner's DELETE does: an active key is revoked; a key already revoked (or
    revoked now because it expired) is taken off the owner's lists on a second DELETE.
    Nothing is erased: usage and the audit log keep naming the key's prefix."""
    if api_key.revoked_at is None:
        return apikey_revoke(api_key=api_key)
    if api_key.removed_at is None:
        api_key.removed_at = timezone.now()
        api_key.save(update_fields=["removed_at"])
        audit_record(
            action="api_key.removed",
            user=api_key.user,
            target_type="api_key",
            target_id=str(api_key.pk),
            details={"prefix": api_key.prefix},
        )
    return api_key


def parse_key(raw: str) -> tuple[str, str] | None:
    """`spk_<prefix>_<secret>` → (prefix, secret), or None when it has not that shape."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def apikey_authenticate(*, raw_key: str) -> APIKey | None:
    """The active key matching `raw_key`, or None. Marks it used."""
    parsed = parse_key(raw_key)
    if parsed is None:
        return None
    prefix, secret = parsed
    api_key = APIKey.objects.select_related("user").filter(prefix=prefix).first()
    # Hash and compare even when no key matched, so timing tells nothing about prefixes.
    candidate = _hash_secret(secret)
    stored = api_key.secret_hash if api_key else "0" * 64
    if not hmac.compare_digest(candidate, stored) or api_key is None:
        return None
    if not api_key.is_active or not api_key.user.is_active:
        return None
    now = timezone.now()
    # Write at most once a minute per key: last_used_at is for humans, not an access log.
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
        APIKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


# --- sign-in -------------------------------------------------------------------------
_LOGIN_GROUP = "login-failures"


def _login_failures(*, client_ip: str, increment: bool) -> dict[str, Any] | None:
    """django-ratelimit's counter of failed sign-ins from one client address, per 15
    minutes (keyed by the address given: no request is needed)."""
    return get_usage(
        None,
        group=_LOGIN_GROUP,
        key=lambda group, request: client_ip,
        rate=f"{settings.LOGIN_FAILURE_LIMIT}/15m",
        increment=increment,
    )


def login_blocked(*, client_ip: str) -> bool:
    """True when this client address has failed to sign in too often lately."""
    usage = _login_failures(client_ip=client_ip, increment=False)
    return bool(usage and usage["count"] >= usage["limit"])


def login_failure_record(*, client_ip: str | None, username: str) -> None:
    """Count the failure against the client address (when there is one: a sign-in
    outside a request has none) and audit it."""
    if client_ip is not None:
        _login_failures(client_ip=client_ip, increment=True)
    audit_record(
        action="auth.login",
        outcome="failure",
        target_type="user",
        username=username[:150],
        details={"username": username[:150]},
    )


def login_success_record(*, user: User) -> None:
    audit_record(action="auth.login", user=user, target_type="user", target_id=str(user.pk))


def mfa_failure_record(*, user: User, authenticator_type: str) -> None:
    audit_record(
        action="auth.mfa",
        outcome="failure",
        user=user,
        target_type="user",
        target_id=str(user.pk),
        details={"type": authenticator_type},
    )


def mfa_lockout_record(*, user: User) -> None:
    """Too many wrong second-factor codes: allauth refuses every code for a while."""
    audit_record(action="auth.mfa.locked", outcome="failure", user=user, target_type="user", target_id=str(user.pk))


def account_event_record(*, action: str, user: User, **details: Any) -> None:
    """An account change made through allauth (password reset, email, two-factor)."""
    audit_record(action=action, user=user, target_type="user", target_id=str(user.pk), details=details)
