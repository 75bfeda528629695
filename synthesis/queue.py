"""The job queue: the one home of its state machine (docs/ARCHITECTURE.md, "The queue").

    queued --claim--> running --complete--> completed
                         |  \\--fail-------> failed
                         |   \\--release---> queued   (worker stopping; the attempt does not count)
                         \\--lease expired / worker gone--> queued, or failed `worker_lost`
    queued | running --cancel (synthesis.services.job_cancel)--> cancelled

Each transition tells the owner, the metrics and the audit log through its one function
in synthesis.job_events, called here once the conditional UPDATE succeeded.

The database is the queue and the source of truth: a worker claims a queued job with
`SELECT … FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite serialises writers instead), holds
a lease it renews while working, and only the lease holder can finish the job. An
expired lease puts the job back in the queue. Worker heartbeat rows are the queue's
bookkeeping of who is working. The wake-up ("there is work") is re-exported from
core.wakeup, where it sits because voices needs it too.

The engine worker (engine_host.worker) only loops over these functions: it asks
`job_claim_for_worker` with its free slots, and runs and wakes what the answer says.
"""

from __future__ import annotations

import logging
import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Subquery
from django.utils import timezone

from core.wakeup import ENGINE_CHANNEL, set_local_waker, wake_worker
from synthesis.job_events import (
    job_announce_completed,
    job_announce_failed,
    job_announce_progress,
    job_announce_requeued,
    job_announce_started,
)
from synthesis.models import SynthesisJob, SynthesisJobQuerySet, WorkerHeartbeat
from synthesis.usage import usage_record_generation

__all__ = [
    "ENGINE_CHANNEL",
    "ClaimDeferrals",
    "StreamVerdict",
    "WorkerClaim",
    "WorkerSlots",
    "job_claim",
    "job_claim_deferrals",
    "job_claim_for_worker",
    "job_claim_next",
    "job_complete",
    "job_fail",
    "job_fail_worker_lost",
    "job_release",
    "job_renew_lease",
    "job_requeue_abandoned",
    "job_requeue_expired",
    "job_stream_watch",
    "on_job_finished",
    "running_lease_owners",
    "set_local_waker",
    "wake_worker",
    "worker_heartbeat_record",
    "worker_heartbeat_remove",
    "worker_heartbeats_prune",
]

logger = logging.getLogger("speaker.jobs")

Status = SynthesisJob.Status


# --------------------------------------------------------------------------- listeners

# A job that ends may move something above this layer along (a long-form production's
# segment: productions.services). That layer hands its listener down at start-up
# (productions.apps), as engine_host hands the streams their runner (docs/ARCHITECTURE.md,
# "Layers"), so the queue imports nothing above it and every host of a worker calls it.
_finished_listeners: list[Callable[[SynthesisJob], None]] = []


def on_job_finished(listener: Callable[[SynthesisJob], None]) -> None:
    """Call `listener(job)` after a job completes or fails (once per transition; not
    for cancellations, which their caller handles)."""
    if listener not in _finished_listeners:
        _finished_listeners.append(listener)


def _notify_finished(job: SynthesisJob) -> None:
    for listener in list(_finished_listeners):
        try:
            listener(job)
        except Exception:  # a listener's failure must not undo or hide the job's end
            logger.exception("job %s: finished-listener %r failed", job.pk, listener)


# --------------------------------------------------------------------------- claim / lease


def _lease_until() -> datetime:
    return timezone.now() + timedelta(seconds=settings.WORKER_LEASE_SECONDS)


def job_claim_next(*, worker_id: str, max_priority: int | None = None) -> SynthesisJob | None:
    """Atomically take the next queued job and a lease on it, or None: the highest
    scheduling class first (streams: someone is listening; then jobs; then bulk work),
    the oldest within a class; with `max_priority`, only classes at least that urgent.
    In-process streams (no channel) are claimed by the web process that serves them,
    never by a worker. This is the class order alone: an engine worker asks
    `job_claim_for_worker`, which adds its slots and least-loaded claiming."""
    return _claim_next(worker_id=worker_id, max_priority=max_priority, left_to_others=None)


def _claim_next(*, worker_id: str, max_priority: int | None, left_to_others: Q | None) -> SynthesisJob | None:
    candidates = SynthesisJob.objects.claimable()
    if max_priority is not None:
        candidates = candidates.filter(priority__lte=max_priority)
    if left_to_others is not None:
        candidates = candidates.exclude(left_to_others)
    return _claim(candidates.order_by("priority", "queued_at"), worker_id)


@dataclass(frozen=True)
class WorkerSlots:
    """An engine worker's slots as it sees them: `size` jobs at once
    (WORKER_MAX_ACTIVE), and the scheduling class of each job it is generating now
    (a job whose thread still runs, even if the queue already ended it)."""

    size: int
    held: tuple[int, ...] = ()
    # The engines the worker has loaded now; None: not said (taken as every engine).
    loaded: frozenset[str] | None = None

    def max_priority(self) -> int | None:
        """Queued and bulk jobs take at most half the slots (at least one), so that a
        stream finds a slot in a busy worker: past that, only streams."""
        background = sum(1 for priority in self.held if priority != SynthesisJob.Priority.INTERACTIVE)
        return SynthesisJob.Priority.INTERACTIVE if background >= max(1, self.size // 2) else None


@dataclass(frozen=True)
class WorkerClaim:
    """The queue's answer to an engine worker: the job to run (None: nothing for it now),
    the workers to wake on their own channels (streams left to them that this worker
    has not passed a wake-up on before), when to ask again at the latest (the first
    stream left to others becomes this worker's to claim), and the streams left to
    others now (to pass back as `left_before` with the next request)."""

    job: SynthesisJob | None
    wake: tuple[str, ...] = ()
    retry_at: datetime | None = None
    left: frozenset = frozenset()


def job_claim_for_worker(*, worker_id: str, slots: WorkerSlots, left_before: frozenset = frozenset()) -> WorkerClaim:
    """The one claim policy of an engine worker (docs/ARCHITECTURE.md, "Fair
    scheduling"), asked once per job it can take:
    - no free slot: no job;
    - queued and bulk jobs only while they hold less than half the slots
      (`WorkerSlots.max_priority`), streams in any free slot;
    - the most urgent class first, the oldest within it (`job_claim_next`);
    - least-loaded claiming: a worker that already holds jobs leaves a freshly queued
      interactive job to a live worker holding fewer (`job_claim_deferrals`), and a
      worker without the job's engine loaded (idle unloading) leaves it to a live
      worker that has it loaded; it wakes that worker, once per stream (`left_before`
      is the `left` of its previous answer)."""
    deferrals = job_claim_deferrals(worker_id=worker_id, loaded=slots.loaded)
    job = None
    if len(slots.held) < slots.size:
        job = _claim_next(
            worker_id=worker_id, max_priority=slots.max_priority(), left_to_others=deferrals.left_to_others
        )
    return WorkerClaim(
        job=job,
        wake=deferrals.to if deferrals.jobs - left_before else (),
        retry_at=deferrals.until,
        left=deferrals.jobs,
    )


@dataclass(frozen=True)
class ClaimDeferrals:
    """What a worker leaves to less-loaded workers now (docs/ARCHITECTURE.md, "Fair
    scheduling"): `left_to_others` matches those queued jobs (None: nothing is left),
    `until` is when the first of them becomes this worker's to claim again."""

    left_to_others: Q | None = None
    until: datetime | None = None
    jobs: frozenset = frozenset()  # the ids of the queued jobs left to others now
    to: tuple[str, ...] = ()  # the workers they are left to (live, fewer jobs, the engine loaded)


def job_claim_deferrals(
    *, worker_id: str, now: datetime | None = None, loaded: frozenset[str] | None = None
) -> ClaimDeferrals:
    """Least-loaded claiming. One loaded XTTS model speaks one sentence at a time, so
    streams spread over worker processes start speaking sooner than streams sharing one
    model. A worker holding N running jobs leaves an interactive job (someone listening)
    queued less than WORKER_CLAIM_DEFER_SECONDS ago to a live worker (a heartbeat newer
    than WORKER_HEARTBEAT_MAX_AGE) that has the job's engine loaded and holds fewer
    than N; after that any worker claims it, so a wedged or slow worker never strands a
    job. A worker's load is the running jobs it leases (written in the claim itself, so
    never stale); an idle worker leaves nothing to anyone, unless it does not have the
    job's engine loaded (`loaded`, the engines it has loaded now; None: all of them):
    a model loading again after idle unloading takes seconds, so such a job is left, for
    the same time, to a live worker that has the engine loaded, however many it holds."""
    defer = settings.WORKER_CLAIM_DEFER_SECONDS
    if defer <= 0:
        return ClaimDeferrals()
    now = now or timezone.now()
    running = SynthesisJob.objects.running()
    own_load = running.filter(lease_owner=worker_id).count()
    if own_load == 0 and loaded is None:
        return ClaimDeferrals()
    live = list(
        WorkerHeartbeat.objects.filter(
            last_seen__gte=now - timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE)
        ).exclude(worker_id=worker_id)
    )
    if not live:
        return ClaimDeferrals()
    loads = dict(
        running.filter(lease_owner__in=[hb.worker_id for hb in live])
        .order_by()
        .values("lease_owner")
        .annotate(held=Count("pk"))
        .values_list("lease_owner", "held")
    )
    # For each other live worker, the engines whose jobs this one leaves to it: those it
    # has loaded, if it holds fewer jobs; else those it has loaded and this one has not.
    better: dict[str, set[str]] = {}
    for hb in live:
        theirs = {engine["name"] for engine in hb.engines or [] if isinstance(engine, dict) and engine.get("loaded")}
        if loads.get(hb.worker_id, 0) >= own_load:
            theirs = theirs - loaded if loaded is not None else set()
        if theirs:
            better[hb.worker_id] = theirs
    engines = set().union(*better.values()) if better else set()
    if not engines:
        return ClaimDeferrals()
    left = Q(
        priority=SynthesisJob.Priority.INTERACTIVE,
        engine__in=sorted(engines),
        queued_at__gt=now - timedelta(seconds=defer),
    )
    waiting = list(
        SynthesisJob.objects.claimable().filter(left).order_by("queued_at").values_list("pk", "queued_at", "engine")
    )
    if not waiting:
        return ClaimDeferrals()
    needed = {engine for _, _, engine in waiting}
    return ClaimDeferrals(
        left_to_others=left,
        until=waiting[0][1] + timedelta(seconds=defer),
        jobs=frozenset(pk for pk, _, _ in waiting),
        to=tuple(sorted(worker for worker, engines_there in better.items() if engines_there & needed)),
    )


def job_claim(*, job_id: Any, worker_id: str) -> SynthesisJob | None:
    """Claim one particular queued job (the web process serving its own stream)."""
    return _claim(SynthesisJob.objects.queued().filter(pk=job_id), worker_id)


def _claim(candidates: SynthesisJobQuerySet, worker_id: str) -> SynthesisJob | None:
    with transaction.atomic():
        if settings.USING_POSTGRES:
            candidates = candidates.select_for_update(skip_locked=True)
        job = candidates.first()
        if job is None:
            return None
        lease: dict[str, Any] = {
            "status": Status.RUNNING,
            "lease_owner": worker_id,
            "lease_expires_at": _lease_until(),
            "attempts": job.attempts + 1,
            "started_at": timezone.now(),
            "progress": 0.0,
        }
        # Conditional update: on SQLite (no row locks) this is what makes a claim unique.
        if not SynthesisJob.objects.queued().filter(pk=job.pk).update(**lease):
            return None
    # The row as claimed, without reading it again: within the transaction nothing but
    # this update changed it (a row lock on PostgreSQL, the write lock an IMMEDIATE
    # transaction takes at its start on SQLite).
    for field, value in lease.items():
        setattr(job, field, value)
    job_announce_started(job)
    return job


def job_renew_lease(*, job: SynthesisJob, worker_id: str, progress: float | None = None) -> bool:
    """Extend the lease; False when the job is no longer ours (cancelled, expired and
    taken over): the worker must stop working on it. A `progress` other than the job's
    is stored, set on `job` and sent as `job.progress`."""
    fields: dict[str, Any] = {"lease_expires_at": _lease_until()}
    if progress is not None:
        fields["progress"] = progress
    if not SynthesisJob.objects.leased_by(worker_id).filter(pk=job.pk).update(**fields):
        return False
    if progress is not None and progress != job.progress:
        job.progress = progress
        job_announce_progress(job)
    return True


# A note job_note wrote before ("Waiting for the piper model to load.", then "Waited 1.2 s
# for …"): replaced by the next one, never repeated.
_WAIT_NOTE = re.compile(r"^(?:Waiting for|Waited [0-9.]+ s for) the \S+ model to load\.\s*")


def job_note(*, job: SynthesisJob, worker_id: str, note: str) -> bool:
    """The lease holder says what the job is waiting for beyond its turn (its engine's
    model loading again after idle unloading), for its owner to read, ahead of what the
    job's note already says of how its text is read (a capped break, a rule not applied:
    set when it was queued); False when the job is no longer ours."""
    kept = _WAIT_NOTE.sub("", job.status_note or "", count=1)
    combined = f"{note} {kept}".strip()
    if not SynthesisJob.objects.leased_by(worker_id).filter(pk=job.pk).update(status_note=combined):
        return False
    job.status_note = combined
    return True


# --------------------------------------------------------------------------- finish


def job_complete(
    *,
    job: SynthesisJob,
    worker_id: str,
    audio_file: str,
    audio_duration: float,
    sample_rate: int,
    time_to_first_audio: float | None,
    synthesis_seconds: float,
    timings: dict[str, Any] | None = None,
) -> bool:
    """Only the lease holder completes a job, exactly once. `timings` are the audio's
    word timings (speech.timings.Timings.to_dict()); `synthesis_seconds`, the audio's
    duration and its first audio's time are the job's metrics."""
    done = (
        SynthesisJob.objects.leased_by(worker_id)
        .filter(pk=job.pk)
        .update(
            status=Status.COMPLETED,
            progress=1.0,
            audio_file=audio_file,
            audio_duration=audio_duration,
            sample_rate=sample_rate,
            time_to_first_audio=time_to_first_audio,
            synthesis_seconds=synthesis_seconds,
            timings=timings,
            finished_at=timezone.now(),
            completed_by=worker_id,
            lease_owner="",
            lease_expires_at=None,
            error_code="",
            error_message="",
        )
    )
    if not done:
        return False
    job.refresh_from_db()
    usage_record_generation(job=job)
    job_announce_completed(
        job=job, seconds=synthesis_seconds, audio_seconds=audio_duration, first_audio_seconds=time_to_first_audio
    )
    _notify_finished(job)
    return True


def job_fail(*, job: SynthesisJob, worker_id: str, code: str, message: str) -> bool:
    """Only the lease holder fails a job (an engine error, a stream cut by a stop)."""
    done = (
        SynthesisJob.objects.leased_by(worker_id)
        .filter(pk=job.pk)
        .update(
            status=Status.FAILED,
            error_code=code,
            error_message=message[:2000],
            finished_at=timezone.now(),
            lease_owner="",
            lease_expires_at=None,
        )
    )
    if done:
        job.refresh_from_db()
        _after_failure(job)
    return bool(done)


def _after_failure(job: SynthesisJob) -> None:
    """Every way a job fails ends here: billed as a failure, announced, listeners told."""
    usage_record_generation(job=job)
    job_announce_failed(job)
    _notify_finished(job)


def job_release(*, job: SynthesisJob, worker_id: str) -> bool:
    """Give a job back to the queue (worker shutting down); the attempt does not count."""
    released = (
        SynthesisJob.objects.leased_by(worker_id)
        .filter(pk=job.pk)
        .update(
            status=Status.QUEUED, lease_owner="", lease_expires_at=None, attempts=max(0, job.attempts - 1), progress=0.0
        )
    )
    if released:
        job.refresh_from_db()
        job_announce_requeued(job)
    return bool(released)


# --------------------------------------------------------------------------- lost workers


def job_requeue_expired() -> int:
    """Jobs whose worker stopped renewing go back to the queue, or fail after
    JOB_MAX_ATTEMPTS. A stream's listener is gone with its worker, so it fails."""
    now = timezone.now()
    return sum(
        _requeue_or_fail(
            job, still=Q(lease_expires_at__lt=now), reason=f"worker {job.lease_owner or '?'} stopped renewing its lease"
        )
        for job in list(SynthesisJob.objects.expired(now))
    )


def running_lease_owners() -> list[str]:
    """Every worker id that holds a lease on a running job (live or not)."""
    return list(SynthesisJob.objects.running().exclude(lease_owner="").values_list("lease_owner", flat=True).distinct())


def job_requeue_abandoned(*, lease_owners: list[str]) -> int:
    """Jobs leased by workers known to be gone (a previous run of a restarted worker)
    go back to the queue at once instead of after their lease; attempts count as for an
    expired lease. The caller decides which owners are gone
    (engine_host.worker.abandoned_lease_owners)."""
    if not lease_owners:
        return 0
    abandoned = list(SynthesisJob.objects.running().filter(lease_owner__in=lease_owners))
    return sum(
        _requeue_or_fail(
            job, still=Q(lease_owner=job.lease_owner), reason=f"worker {job.lease_owner} stopped (restarted)"
        )
        for job in abandoned
    )


def _requeue_or_fail(job: SynthesisJob, *, still: Q, reason: str) -> int:
    """Requeue one running job whose worker is gone, unless it used its attempts or is a
    stream (its listener went with the worker): then it fails with `worker_lost`.
    `still` re-checks, in the same UPDATE, that the job is in the state we read."""
    current = SynthesisJob.objects.running().filter(still, pk=job.pk)
    if job.attempts >= settings.JOB_MAX_ATTEMPTS or not job.resumable:
        changed = current.update(
            status=Status.FAILED,
            error_code="worker_lost",
            error_message=f"{reason}; gave up after {job.attempts} attempt(s)",
            finished_at=timezone.now(),
            lease_owner="",
            lease_expires_at=None,
        )
        if changed:
            job.refresh_from_db()
            _after_failure(job)
        return 0
    requeued = current.update(
        status=Status.QUEUED, lease_owner="", lease_expires_at=None, error_message=reason, progress=0.0
    )
    if requeued:
        job.refresh_from_db()
        job_announce_requeued(job)
    return requeued


def job_fail_worker_lost(*, job_id: Any, message: str) -> bool:
    """The web side of a relayed stream gave up on its worker (no chunk within
    STREAM_IDLE_TIMEOUT, or its lease ran out): the job fails with `worker_lost` unless
    it finished meanwhile."""
    changed = (
        SynthesisJob.objects.active()
        .filter(pk=job_id)
        .update(
            status=Status.FAILED,
            error_code="worker_lost",
            error_message=message[:2000],
            finished_at=timezone.now(),
            lease_owner="",
            lease_expires_at=None,
        )
    )
    if changed:
        _after_failure(SynthesisJob.objects.get(pk=job_id))
    return bool(changed)


# --------------------------------------------------------------------------- stream watch


@dataclass(frozen=True)
class StreamVerdict:
    done: bool  # the web side stops waiting for chunks
    error: str | None = None  # why, when the stream did not end well


def job_stream_watch(*, job_id: Any, idle_seconds: float) -> StreamVerdict:
    """Asked by the web process relaying a stream from a separate worker when no chunk
    has come for a while: is a worker still making it? A worker whose lease ran out, or
    silence for STREAM_IDLE_TIMEOUT (no worker claimed it, or it died before its lease
    ran out), fails the job with `worker_lost` and ends the response."""
    job = SynthesisJob.objects.filter(pk=job_id).only("status", "lease_owner", "lease_expires_at").first()
    if job is None:
        return StreamVerdict(True, "the job was deleted")
    if job.status == Status.COMPLETED:
        # Its last chunks and the end message are on their way; wait for them only so long.
        return StreamVerdict(idle_seconds >= settings.STREAM_IDLE_TIMEOUT)
    if job.status in SynthesisJob.FINISHED:
        return StreamVerdict(True, f"the job is {job.status}")
    if job.status == Status.RUNNING and job.lease_expires_at is not None and job.lease_expires_at < timezone.now():
        reason = f"worker {job.lease_owner} stopped renewing its lease during the stream"
    elif idle_seconds >= settings.STREAM_IDLE_TIMEOUT:
        who = (
            f"worker {job.lease_owner}"
            if job.status == Status.RUNNING
            else "any engine worker (none claimed the stream)"
        )
        reason = f"no audio from {who} for {idle_seconds:.0f}s (STREAM_IDLE_TIMEOUT)"
    else:
        return StreamVerdict(False)
    job_fail_worker_lost(job_id=job_id, message=reason)
    return StreamVerdict(True, reason)


# --------------------------------------------------------------------------- worker heartbeats


def worker_heartbeat_record(
    *,
    worker_id: str,
    started_at: datetime,
    engines: list[dict[str, Any]],
    current_job: SynthesisJob | None,
    jobs_done: int,
) -> None:
    """The worker's row on the health page: refreshed while it lives."""
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname(),
            "pid": os.getpid(),
            "started_at": started_at,
            "last_seen": timezone.now(),
            "engines": engines,
            "current_job": current_job.pk if current_job else None,
            "jobs_done": jobs_done,
        },
    )


def worker_heartbeat_remove(*, worker_id: str) -> None:
    """A worker that stops cleanly removes its own row."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def worker_heartbeats_prune(*, now: datetime | None = None) -> int:
    """Forget workers that have been silent for WORKER_HEARTBEAT_PRUNE_SECONDS and hold
    no live lease (a killed worker never deletes its own row). Until then the health
    page lists them as stale, which is what an operator wants to see after a crash."""
    now = now or timezone.now()
    leasing = SynthesisJob.objects.live_leases(now).values("lease_owner")
    deleted, _ = (
        WorkerHeartbeat.objects.filter(last_seen__lt=now - timedelta(seconds=settings.WORKER_HEARTBEAT_PRUNE_SECONDS))
        .exclude(worker_id__in=Subquery(leasing))
        .delete()
    )
    return deleted
