"""The account's standing cloning attestation (docs/ARCHITECTURE.md, "Consent").

Speaker's own cloning endpoints take `consent=true` with every upload. APIs that carry no
consent field (the ElevenLabs-compatible POST /v1/voices/add) may clone only for an
account that accepted the attestation once, in the dashboard or by API; each clone
made under it still writes its own ConsentRecord with the sample hashes, pointing here.
Who accepted it from where comes from the request context (core.context).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from core.context import current
from monitoring.services import audit_record
from voices.models import CLONING_ATTESTATION_STATEMENT, CloningAttestation

# Where to accept it, for the 403 of a clone without it.
ATTESTATION_DASHBOARD_PATH = "/cloning-attestation/"
ATTESTATION_API_PATH = "/api/v1/cloning-attestation"


def attestation_current(*, user: Any) -> CloningAttestation | None:
    """The account's attestation in force (the latest not revoked), or None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return CloningAttestation.objects.filter(user=user, revoked_at__isnull=True).order_by("-accepted_at").first()


def attestation_accept(*, user: Any, via: str) -> CloningAttestation:
    """Accept the attestation (`via`: CloningAttestation.Via). Accepting again while one
    is in force returns that one: the date of the first acceptance stands."""
    with transaction.atomic():
        existing = attestation_current(user=user)
        if existing is not None:
            return existing
        ctx = current()
        record = CloningAttestation.objects.create(
            user=user,
            username=getattr(user, "username", "") or "",
            via=via,
            ip=ctx.client_ip,
            user_agent=ctx.user_agent,
            api_key_prefix=ctx.api_key_prefix,
            statement=CLONING_ATTESTATION_STATEMENT,
        )
        audit_record(
            action="cloning_attestation.accepted",
            user=user,
            target_type="cloning_attestation",
            target_id=str(record.pk),
            details={"via": via, "statement": record.statement},
        )
    return record


def attestation_revoke(*, user: Any) -> CloningAttestation | None:
    """Withdraw the attestation in force (None if there was none); later clones through
    APIs without a consent field are refused until it is accepted again."""
    with transaction.atomic():
        record = attestation_current(user=user)
        if record is None:
            return None
        record.revoked_at = timezone.now()
        record.save(update_fields=["revoked_at"])
        audit_record(
            action="cloning_attestation.revoked",
            user=user,
            target_type="cloning_attestation",
            target_id=str(record.pk),
            details={"accepted_at": record.accepted_at.isoformat()},
        )
    return record
