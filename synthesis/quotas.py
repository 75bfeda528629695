"""Per-user limits: a monthly character quota and a cap on active jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from accounts.models import User
from core.errors import ApiError
from synthesis.models import SynthesisJob, UsageRecord


@dataclass(frozen=True)
class QuotaState:
    limit: int
    used: int
    reserved: int  # characters of jobs queued or running, not billed yet
    resets_at: datetime

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used - self.reserved)


def month_start(now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month_start(now: datetime | None = None) -> datetime:
    start = month_start(now)
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)


def quota_state(*, user: User, now: datetime | None = None) -> QuotaState:
    since = month_start(now)
    used = (
        UsageRecord.objects.filter(user=user, succeeded=True, created_at__gte=since).aggregate(n=Sum("characters"))["n"]
        or 0
    )
    reserved = (
        SynthesisJob.objects.filter(owner=user, status__in=SynthesisJob.ACTIVE)
        # Previews are not billed; a production's segments were billed with it, when it
        # was accepted (productions.services).
        .exclude(mode__in=(SynthesisJob.Mode.PREVIEW, SynthesisJob.Mode.SEGMENT))
        .aggregate(n=Sum("character_count"))["n"]
        or 0
    )
    return QuotaState(limit=user.character_quota(), used=used, reserved=reserved, resets_at=next_month_start(now))


def quota_lock_user(*, user: User) -> None:
    """Take the user's row lock until the surrounding transaction ends, so that checking
    the caps and inserting the job are one step: concurrent creates of one user queue
    here and each sees the jobs the earlier ones inserted. PostgreSQL: a row lock
    (SELECT … FOR NO KEY UPDATE). SQLite: every transaction starts IMMEDIATE (settings), which
    already serialises writers; the query is then a plain read."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("quota_lock_user must run inside transaction.atomic()")
    # NO KEY UPDATE: creates of one user queue on it, while inserts that merely reference
    # the user (audit rows, usage records) are not blocked.
    list(User.objects.select_for_update(no_key=True).filter(pk=user.pk).values_list("pk", flat=True))


def quota_check_job(*, user: User, characters: int, mode: str) -> QuotaState:
    """Raise 429 when the job would pass the monthly quota or the active-jobs cap. Exact
    only under quota_lock_user (job_create holds it)."""
    state = quota_state(user=user)
    if characters > state.remaining:
        raise ApiError(
            f"Monthly character quota exceeded: {state.remaining} of {state.limit} characters left, "
            f"this request needs {characters}.",
            code="quota_exceeded",
            status_code=429,
            details={
                "limit": state.limit,
                "used": state.used + state.reserved,
                "remaining": state.remaining,
                "requested": characters,
                "resets_at": state.resets_at.isoformat(),
            },
            headers={"Retry-After": str(max(1, int((state.resets_at - timezone.now()).total_seconds())))},
        )
    if mode == SynthesisJob.Mode.JOB:
        active = SynthesisJob.objects.filter(
            owner=user, status__in=SynthesisJob.ACTIVE, mode=SynthesisJob.Mode.JOB
        ).count()
        limit = user.active_jobs_limit()
        if active >= limit:
            raise ApiError(
                f"You already have {active} queued or running jobs; the limit is {limit}.",
                code="too_many_active_jobs",
                status_code=429,
                details={"active_jobs": active, "limit": limit},
                headers={"Retry-After": "5"},
            )
    return state
