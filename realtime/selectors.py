"""The database reads of `/ws/events/`: the snapshot a socket starts (or resyncs) from,
and the periodic re-check of its credential and of the jobs its client believes active.
Each runs in one thread hop (`database_sync_to_async`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from channels.db import database_sync_to_async
from django.db.models import Q
from django.utils import timezone

from core.events import FINAL_JOB_EVENTS, current_user_seq
from realtime.auth import credential_refusal
from realtime.refusals import Refusal
from synthesis.job_events import job_event_payload
from synthesis.models import SynthesisJob
from synthesis.services import active_jobs_for
from voices.models import Voice

# How far back a resync looks for jobs that ended while messages were lost: covers the
# time between a job's `finished_at` and its commit, and clock skew between hosts.
RESYNC_LOOKBACK = timedelta(seconds=60)


def _final_event(payload: dict[str, Any]) -> dict[str, Any]:
    return {"type": FINAL_JOB_EVENTS[payload["status"]], **payload}


def _voice_snapshot(user_id: int) -> list[dict[str, Any]]:
    return [
        {"voice_id": str(v.pk), "status": v.status, "name": v.name}
        for v in Voice.objects.filter(owner_id=user_id, status="processing")
    ]


@dataclass
class Resync:
    useq: int | None
    now: datetime
    jobs: list[dict[str, Any]]
    voices: list[dict[str, Any]]
    ended: list[dict[str, Any]] = field(default_factory=list)


@database_sync_to_async
def events_resync_read(
    *, user_id: int, jobs: bool, voices: bool, tracked: list[str], since: datetime | None, sent: list[str]
) -> Resync:
    useq = current_user_seq(user_id)  # before the reads: anything numbered after it is newer
    now = timezone.now()
    state = Resync(
        useq=useq,
        now=now,
        jobs=[job_event_payload(job) for job in active_jobs_for(user_id)] if jobs else [],
        voices=_voice_snapshot(user_id) if voices else [],
    )
    if jobs and (tracked or since is not None):
        which = Q(pk__in=tracked)
        if since is not None:
            which |= Q(finished_at__gte=since - RESYNC_LOOKBACK)
        ended = (
            SynthesisJob.objects.filter(owner_id=user_id, status__in=list(FINAL_JOB_EVENTS))
            .filter(which)
            .exclude(pk__in=sent)
            .order_by("finished_at")
        )
        state.ended = [_final_event(job_event_payload(job)) for job in ended]
    return state


@dataclass
class Check:
    refusal: Refusal | None = None
    deadline: datetime | None = None
    useq: int | None = None
    ended: list[dict[str, Any]] = field(default_factory=list)


@database_sync_to_async
def events_check_read(*, user_id: int, api_key_id: int | None, session_key: str | None, tracked: list[str]) -> Check:
    refusal, deadline = credential_refusal(user_id=user_id, api_key_id=api_key_id, session_key=session_key)
    if refusal is not None:
        return Check(refusal=refusal)
    check = Check(deadline=deadline, useq=current_user_seq(user_id))
    if tracked:
        ended = SynthesisJob.objects.filter(pk__in=tracked, status__in=list(FINAL_JOB_EVENTS)).order_by("finished_at")
        check.ended = [_final_event(job_event_payload(job)) for job in ended]
    return check
