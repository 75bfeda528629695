"""Synthesis jobs: create, claim, lease, complete, fail, cancel, delete.

The database is the queue and the source of truth (ARCHITECTURE.md, "The way a request
flows"): a worker claims a queued job with `SELECT … FOR UPDATE SKIP LOCKED` (PostgreSQL;
SQLite serialises writers instead), holds a lease it renews while working, and only the
lease holder can finish the job. An expired lease puts the job back in the queue.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Mapping

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Subquery
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import APIKey, User
from monitoring.services import audit_record
from core.errors import ApiError, Conflict, ServiceUnavailable
from speech import audio as audiomod
from speech import text as textmod
from speech.engines.errors import EngineUnavailable
from speech.engines.params import SynthesisParams
from core.engines import get_registry
from core.events import send_user_event
from synthesis.models import SynthesisJob, WorkerHeartbeat

logger = logging.getLogger("speaker.jobs")

Status = SynthesisJob.Status


# --------------------------------------------------------------------------- create


@dataclass(frozen=True)
class JobRequest:
    text: str
    voice: str
    language: str | None = None
    output_format: str = "wav"
    params: Mapping[str, Any] | None = None


def _request_hash(req: JobRequest) -> str:
    canonical = json.dumps(
        {"text": req.text, "voice": req.voice, "language": req.language, "format": req.output_format, "params": dict(req.params or {})},
        sort_keys=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def job_validate(*, user: User, req: JobRequest) -> dict[str, Any]:
    """Check a request fully (text, voice, language, params) without queuing anything;
    returns the fields of the job to create. Raises ApiError/EngineError/Http404."""
    from voices.services import voice_resolve_for_synthesis

    # The limit counts what is spoken and billed (count_characters: no emotion tags, runs
    # of spaces as one), the one count the dashboard shows; the raw text, tags and
    # spacing included, may be at most twice that (README "Speech: jobs, streams").
    limit = settings.MAX_TEXT_LENGTH
    if len(req.text) > 2 * limit:
        raise ApiError(
            f"Text is {len(req.text)} characters long with its tags and spacing; at most {2 * limit} are accepted "
            f"(and {limit} spoken characters).",
            details={"text": [f"At most {limit} characters."], "limit": limit},
        )
    characters = textmod.count_characters(req.text)
    if characters > limit:
        raise ApiError(
            f"Text is {characters} characters (emotion tags and extra spaces not counted); the limit is {limit}. "
            "Shorten it or split it into several jobs.",
            details={"text": [f"At most {limit} characters."], "limit": limit},
        )
    if req.output_format not in audiomod.FORMATS:
        raise ApiError(
            f"Unknown format {req.output_format!r}.",
            details={"format": [f"Choose one of {', '.join(audiomod.FORMATS)}."]},
        )
    voice = voice_resolve_for_synthesis(user=user, ref=req.voice)
    registry = get_registry()
    reason = registry.reason(voice.engine)
    if reason is not None:
        raise EngineUnavailable(reason, engine=voice.engine)  # -> 409
    # The engine object, not loaded: validation reads config and vocab only, so the web
    # process never loads XTTS weights (workers do).
    engine = registry.engine(voice.engine)
    params = SynthesisParams.from_dict(dict(req.params or {}))
    language = req.language or voice.language
    # Full validation now (text, language, params, voice), so a bad request is a 400
    # here and never a failed job later.
    engine.plan(req.text, language=language, voice=voice_ref(voice), params=params)
    return {
        "voice": voice,
        "voice_name": voice.name,
        "voice_builtin": voice.is_builtin,
        "engine": engine.name,
        "language": engine.resolve_language(language),
        "text": req.text,
        "params": params.to_dict(),
        "output_format": req.output_format,
        "word_count": textmod.count_words(req.text),
        "character_count": textmod.count_characters(req.text),
    }


def voice_ref(voice: Any) -> Any:
    from speech.engines.base import VoiceRef

    if voice.is_builtin:
        return VoiceRef(builtin=voice.builtin_key)
    return VoiceRef(conditioning=bytes(voice.conditioning) if voice.conditioning is not None else None)


def job_create(
    *,
    user: User,
    req: JobRequest,
    api_key: APIKey | None = None,
    idempotency_key: str | None = None,
    mode: str = SynthesisJob.Mode.JOB,
    stream_channel: str = "",
    request: HttpRequest | None = None,
) -> tuple[SynthesisJob, bool]:
    """Queue a job. Returns (job, created). The same Idempotency-Key with the same body
    returns the first job; with a different body it is a 409."""
    digest = _request_hash(req)
    if idempotency_key:
        existing = SynthesisJob.objects.filter(owner=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _idempotent_replay(existing, digest), False
    fields = job_validate(user=user, req=req)
    from synthesis.quotas import quota_check_job, quota_lock_user

    if stream_channel and not worker_alive_exists():
        # A stream relayed by a separate worker waits for one: with none alive the
        # client would wait for nothing (README "Scale-out").
        raise ServiceUnavailable(
            "No engine worker is running to serve this stream; retry shortly.",
            details={"heartbeat_max_age_seconds": settings.WORKER_HEARTBEAT_MAX_AGE},
            headers={"Retry-After": str(min(30, settings.WORKER_HEARTBEAT_MAX_AGE))},
        )
    try:
        with transaction.atomic():
            # The cap and quota checks and the insert are one step per user: the user's
            # row lock queues concurrent creates, so the caps are exact (README "Quotas").
            quota_lock_user(user=user)
            if idempotency_key:
                existing = SynthesisJob.objects.filter(owner=user, idempotency_key=idempotency_key).first()
                if existing is not None:
                    return _idempotent_replay(existing, digest), False
            if mode != SynthesisJob.Mode.PREVIEW:  # previews are the platform's, not billed
                quota_check_job(user=user, characters=fields["character_count"], mode=mode)
            job = SynthesisJob.objects.create(
                owner=user,
                api_key=api_key,
                mode=mode,
                stream_channel=stream_channel,
                idempotency_key=idempotency_key or None,
                request_hash=digest,
                **fields,
            )
    except IntegrityError:
        # A concurrent request with the same Idempotency-Key won the race.
        existing = SynthesisJob.objects.get(owner=user, idempotency_key=idempotency_key)
        return _idempotent_replay(existing, digest), False
    audit_record(
        action="job.created",
        user=user,
        target_type="synthesis_job",
        target_id=str(job.pk),
        details={"voice": job.voice_name, "engine": job.engine, "characters": job.character_count, "mode": mode},
    )
    if mode == SynthesisJob.Mode.JOB:
        transaction.on_commit(lambda: _announce_queued(job))
    return job, True


def _idempotent_replay(existing: SynthesisJob, digest: str) -> SynthesisJob:
    if existing.request_hash != digest:
        raise Conflict(
            "This Idempotency-Key was already used with a different request body.",
            details={"job_id": str(existing.pk)},
        )
    return existing


def _announce_queued(job: SynthesisJob) -> None:
    from core.wakeup import wake_worker

    send_user_event(user_id=job.owner_id, event="job.queued", payload=job_event_payload(job))
    wake_worker()


def job_event_payload(job: SynthesisJob) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "job_id": str(job.pk),
        "status": job.status,
        "progress": round(job.progress, 4),
        "voice": job.voice_name,
    }
    if job.status == Status.COMPLETED:
        payload["audio_url"] = f"/api/v1/synthesis/{job.pk}/audio"
        payload["audio_duration"] = job.audio_duration
    if job.status == Status.FAILED:
        payload["error"] = {"code": job.error_code, "message": job.error_message}
    return payload


# --------------------------------------------------------------------------- claim / lease


def _lease_until() -> Any:
    return timezone.now() + timedelta(seconds=settings.WORKER_LEASE_SECONDS)


def job_claim_next(*, worker_id: str) -> SynthesisJob | None:
    """Atomically take the next queued job and a lease on it, or None. Streams first
    (someone is listening), then the oldest job. In-process streams (no channel) are
    claimed by the web process that serves them, never by a worker."""
    waiting = SynthesisJob.objects.filter(status=Status.QUEUED).exclude(
        mode__in=(SynthesisJob.Mode.STREAM, SynthesisJob.Mode.PREVIEW), stream_channel=""
    )
    # Descending mode: "stream" > "preview" > "job", so listeners are served first.
    return _claim(waiting.order_by("-mode", "queued_at"), worker_id)


def job_claim(*, job_id: Any, worker_id: str) -> SynthesisJob | None:
    """Claim one particular queued job (the web process serving its own stream)."""
    return _claim(SynthesisJob.objects.filter(pk=job_id, status=Status.QUEUED), worker_id)


def _claim(candidates: Any, worker_id: str) -> SynthesisJob | None:
    with transaction.atomic():
        if settings.USING_POSTGRES:
            candidates = candidates.select_for_update(skip_locked=True)
        job = candidates.first()
        if job is None:
            return None
        now = timezone.now()
        # Conditional update: on SQLite (no row locks) this is what makes a claim unique.
        claimed = SynthesisJob.objects.filter(pk=job.pk, status=Status.QUEUED).update(
            status=Status.RUNNING,
            lease_owner=worker_id,
            lease_expires_at=_lease_until(),
            attempts=job.attempts + 1,
            started_at=now,
            progress=0.0,
        )
        if not claimed:
            return None
    job.refresh_from_db()
    return job


def job_renew_lease(*, job: SynthesisJob, worker_id: str, progress: float | None = None) -> bool:
    """Extend the lease; False when the job is no longer ours (cancelled, expired and
    taken over): the worker must stop working on it."""
    fields: dict[str, Any] = {"lease_expires_at": _lease_until()}
    if progress is not None:
        fields["progress"] = progress
    return bool(
        SynthesisJob.objects.filter(pk=job.pk, status=Status.RUNNING, lease_owner=worker_id).update(**fields)
    )


def job_complete(
    *,
    job: SynthesisJob,
    worker_id: str,
    audio_file: str,
    audio_duration: float,
    sample_rate: int,
    time_to_first_audio: float | None,
    synthesis_seconds: float,
) -> bool:
    """Only the lease holder completes a job, exactly once."""
    now = timezone.now()
    done = SynthesisJob.objects.filter(pk=job.pk, status=Status.RUNNING, lease_owner=worker_id).update(
        status=Status.COMPLETED,
        progress=1.0,
        audio_file=audio_file,
        audio_duration=audio_duration,
        sample_rate=sample_rate,
        time_to_first_audio=time_to_first_audio,
        synthesis_seconds=synthesis_seconds,
        finished_at=now,
        completed_by=worker_id,
        lease_owner="",
        lease_expires_at=None,
        error_code="",
        error_message="",
    )
    if not done:
        return False
    job.refresh_from_db()
    from synthesis.usage import usage_record_generation

    usage_record_generation(job=job)
    send_user_event(user_id=job.owner_id, event="job.completed", payload=job_event_payload(job))
    return True


def job_fail(*, job: SynthesisJob, worker_id: str, code: str, message: str) -> bool:
    done = SynthesisJob.objects.filter(pk=job.pk, status=Status.RUNNING, lease_owner=worker_id).update(
        status=Status.FAILED,
        error_code=code,
        error_message=message[:2000],
        finished_at=timezone.now(),
        lease_owner="",
        lease_expires_at=None,
    )
    if done:
        job.refresh_from_db()
        _after_failure(job)
    return bool(done)


def job_observe(
    *,
    job: SynthesisJob,
    status: str,
    seconds: float = 0.0,
    audio_seconds: float | None = None,
    first_audio_seconds: float | None = None,
) -> None:
    """Record a finished job in the Prometheus series. Failures and cancellations count
    in tts_requests_total too (the error-rate alert reads them); latency series are only
    for successes (monitoring.metrics)."""
    from monitoring.metrics import observe_generation, voice_label

    observe_generation(
        endpoint=job.mode,
        engine=job.engine,
        voice=voice_label(job.voice_name, job.voice_builtin),
        language=job.language,
        words=job.word_count,
        characters=job.character_count,
        seconds=seconds,
        audio_seconds=audio_seconds,
        first_audio_seconds=first_audio_seconds,
        mode="job" if job.mode == SynthesisJob.Mode.JOB else "stream",
        status=status,
    )


def _after_failure(job: SynthesisJob) -> None:
    from monitoring.metrics import record_error
    from synthesis.usage import usage_record_generation

    record_error(job.error_code or "job_failed")
    job_observe(job=job, status="failure")
    usage_record_generation(job=job)
    audit_record(
        action="job.failed",
        user=job.owner,
        outcome="failure",
        target_type="synthesis_job",
        target_id=str(job.pk),
        details={"code": job.error_code, "message": job.error_message[:500], "attempts": job.attempts},
    )
    send_user_event(user_id=job.owner_id, event="job.failed", payload=job_event_payload(job))


def job_release(*, job: SynthesisJob, worker_id: str) -> bool:
    """Give a job back to the queue (worker shutting down); the attempt does not count."""
    released = SynthesisJob.objects.filter(pk=job.pk, status=Status.RUNNING, lease_owner=worker_id).update(
        status=Status.QUEUED, lease_owner="", lease_expires_at=None, attempts=max(0, job.attempts - 1), progress=0.0
    )
    return bool(released)


def job_requeue_expired() -> int:
    """Jobs whose worker stopped renewing go back to the queue, or fail after
    JOB_MAX_ATTEMPTS. A stream's listener is gone with its worker, so it fails."""
    now = timezone.now()
    expired = list(SynthesisJob.objects.filter(status=Status.RUNNING, lease_expires_at__lt=now))
    return sum(
        _requeue_or_fail(job, still=Q(lease_expires_at__lt=now), reason=f"worker {job.lease_owner or '?'} stopped renewing its lease")
        for job in expired
    )


def job_requeue_abandoned(*, lease_owners: list[str]) -> int:
    """Jobs leased by workers known to be gone (a previous run of a restarted worker)
    go back to the queue at once instead of after their lease; attempts count as for an
    expired lease. The caller decides which owners are gone (EngineWorker._startup)."""
    if not lease_owners:
        return 0
    abandoned = list(SynthesisJob.objects.filter(status=Status.RUNNING, lease_owner__in=lease_owners))
    return sum(
        _requeue_or_fail(job, still=Q(lease_owner=job.lease_owner), reason=f"worker {job.lease_owner} stopped (restarted)")
        for job in abandoned
    )


def _requeue_or_fail(job: SynthesisJob, *, still: Q, reason: str) -> int:
    """Requeue one running job whose worker is gone, unless it used its attempts or is a
    stream (its listener went with the worker): then it fails with `worker_lost`.
    `still` re-checks, in the same UPDATE, that the job is in the state we read."""
    now = timezone.now()
    current = SynthesisJob.objects.filter(still, pk=job.pk, status=Status.RUNNING)
    if job.attempts >= settings.JOB_MAX_ATTEMPTS or job.mode != SynthesisJob.Mode.JOB:
        changed = current.update(
            status=Status.FAILED,
            error_code="worker_lost",
            error_message=f"{reason}; gave up after {job.attempts} attempt(s)",
            finished_at=now,
            lease_owner="",
            lease_expires_at=None,
        )
        if changed:
            job.refresh_from_db()
            _after_failure(job)
        return 0
    return current.update(status=Status.QUEUED, lease_owner="", lease_expires_at=None, error_message=reason, progress=0.0)


def job_fail_worker_lost(*, job_id: Any, message: str) -> bool:
    """The web side of a relayed stream gave up on its worker (no chunk within
    STREAM_IDLE_TIMEOUT, or its lease ran out): the job fails with `worker_lost` unless
    it finished meanwhile."""
    changed = SynthesisJob.objects.filter(pk=job_id, status__in=SynthesisJob.ACTIVE).update(
        status=Status.FAILED,
        error_code="worker_lost",
        error_message=message[:2000],
        finished_at=timezone.now(),
        lease_owner="",
        lease_expires_at=None,
    )
    if changed:
        _after_failure(SynthesisJob.objects.get(pk=job_id))
    return bool(changed)


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
        who = f"worker {job.lease_owner}" if job.status == Status.RUNNING else "any engine worker (none claimed the stream)"
        reason = f"no audio from {who} for {idle_seconds:.0f}s (STREAM_IDLE_TIMEOUT)"
    else:
        return StreamVerdict(False)
    job_fail_worker_lost(job_id=job_id, message=reason)
    return StreamVerdict(True, reason)


# --------------------------------------------------------------------------- workers


def worker_alive_exists(*, now: Any = None) -> bool:
    """Is any engine worker alive: a heartbeat newer than WORKER_HEARTBEAT_MAX_AGE, or a
    lease it still renews (a worker inside one long generation heartbeats late; the same
    rule as the health page's)."""
    now = now or timezone.now()
    if WorkerHeartbeat.objects.filter(last_seen__gte=now - timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE)).exists():
        return True
    return SynthesisJob.objects.filter(
        status=Status.RUNNING, lease_expires_at__gt=now, lease_owner__in=Subquery(WorkerHeartbeat.objects.values("worker_id"))
    ).exists()


def worker_heartbeats_prune(*, now: Any = None) -> int:
    """Forget workers that have been silent for WORKER_HEARTBEAT_PRUNE_SECONDS and hold
    no live lease (a killed worker never deletes its own row). Until then the health
    page lists them as stale, which is what an operator wants to see after a crash."""
    now = now or timezone.now()
    leasing = SynthesisJob.objects.filter(status=Status.RUNNING, lease_expires_at__gt=now).values("lease_owner")
    deleted, _ = (
        WorkerHeartbeat.objects.filter(last_seen__lt=now - timedelta(seconds=settings.WORKER_HEARTBEAT_PRUNE_SECONDS))
        .exclude(worker_id__in=Subquery(leasing))
        .delete()
    )
    return deleted


# --------------------------------------------------------------------------- owner actions


def job_cancel(*, job: SynthesisJob, request: HttpRequest | None = None) -> SynthesisJob:
    if job.status not in SynthesisJob.ACTIVE:
        raise Conflict(f"The job is already {job.status}.", details={"status": job.status})
    SynthesisJob.objects.filter(pk=job.pk, status__in=SynthesisJob.ACTIVE).update(
        status=Status.CANCELLED, finished_at=timezone.now(), lease_owner="", lease_expires_at=None
    )
    job.refresh_from_db()
    job_observe(job=job, status="cancelled")
    audit_record(action="job.cancelled", user=job.owner, target_type="synthesis_job", target_id=str(job.pk))
    send_user_event(user_id=job.owner_id, event="job.cancelled", payload=job_event_payload(job))
    return job


def job_audio_paths(job: SynthesisJob) -> list[Path]:
    """The stored master audio and every cached encoding of it."""
    if not job.audio_file:
        return []
    master = Path(settings.MEDIA_ROOT) / job.audio_file
    return [master, *sorted(master.parent.glob(f"{master.stem}.*"))]


def job_delete_files(job: SynthesisJob) -> None:
    for path in set(job_audio_paths(job)):
        path.unlink(missing_ok=True)


def job_delete(*, job: SynthesisJob, request: HttpRequest | None = None) -> None:
    """Delete a job and its audio. A running job is cancelled first."""
    if job.status in SynthesisJob.ACTIVE:
        SynthesisJob.objects.filter(pk=job.pk).update(status=Status.CANCELLED)
    paths = job_audio_paths(job)
    job_id = str(job.pk)
    job.delete()
    for path in set(paths):
        path.unlink(missing_ok=True)
    audit_record(action="job.deleted", target_type="synthesis_job", target_id=job_id)


def jobs_bulk_delete(*, user: User, ids: list[str], request: HttpRequest | None = None) -> int:
    jobs = list(SynthesisJob.objects.filter(owner=user, pk__in=ids))
    for job in jobs:
        job_delete(job=job, request=request)
    return len(jobs)


def active_jobs_for(user_id: int) -> list[SynthesisJob]:
    return list(SynthesisJob.objects.filter(owner_id=user_id).filter(Q(status=Status.QUEUED) | Q(status=Status.RUNNING)))
