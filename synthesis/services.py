"""Synthesis jobs, the owner's side: validate, create (queue), cancel, delete.

What happens to a job between queued and finished (claim, lease, complete, fail,
release, requeue) is the queue's (synthesis.queue; docs/ARCHITECTURE.md, "The queue").
What each transition tells the owner, the metrics and the audit log is
synthesis.job_events', below both.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Subquery
from django.utils import timezone

from accounts.models import APIKey, User
from core import media
from core.engines import get_registry
from core.errors import ApiError, Conflict, ServiceUnavailable
from core.wakeup import wake_worker
from monitoring.services import audit_record
from pronunciation.selectors import Locator, lexicon_for_request
from speech import audio as audiomod
from speech import markup
from speech import text as textmod
from speech.engines.errors import EngineUnavailable
from speech.engines.params import SynthesisParams
from speech.pronunciation import Lexicon
from synthesis.job_events import job_announce_cancelled, job_announce_queued
from synthesis.models import SynthesisJob, WorkerHeartbeat
from synthesis.quotas import quota_check_job, quota_lock_user
from voices.selectors import voice_ref, voice_resolve_for_synthesis

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
    instructions: str = ""  # kept on the job as given, not spoken (SynthesisJob.instructions)
    text_format: str = markup.TEXT  # "ssml": the text is a whole SSML document
    # Pronunciation dictionaries, in order; None: the account's default one (if any).
    dictionaries: tuple[Locator, ...] | None = None


def _request_hash(req: JobRequest) -> str:
    fields: dict[str, Any] = {
        "text": req.text,
        "voice": req.voice,
        "language": req.language,
        "format": req.output_format,
        "params": dict(req.params or {}),
    }
    if req.instructions:
        fields["instructions"] = req.instructions
    if req.text_format != markup.TEXT:
        fields["text_format"] = req.text_format
    if req.dictionaries is not None:
        fields["dictionaries"] = [[d.dictionary_id, d.version_id] for d in req.dictionaries]
    canonical = json.dumps(fields, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def job_validate(*, user: User, req: JobRequest) -> dict[str, Any]:
    """Check a request fully (text, voice, language, params) without queuing anything;
    returns the fields of the job to create. Raises ApiError/EngineError/Http404."""
    job_text_check(text=req.text)
    if req.output_format not in audiomod.FORMATS:
        raise ApiError(
            f"Unknown format {req.output_format!r}.",
            details={"format": [f"Choose one of {', '.join(audiomod.FORMATS)}."]},
        )
    voice = voice_resolve_for_synthesis(user=user, ref=req.voice)
    engine = job_engine_for(voice=voice)
    params = job_params_resolve(voice=voice, given=req.params)
    language = req.language or voice.language
    lexicon = job_lexicon(user=user, text=req.text, dictionaries=req.dictionaries)
    # Full validation now (text, markup, language, params, voice), so a bad request is a
    # 400 here and never a failed job later.
    plan = engine.plan(
        req.text,
        language=language,
        voice=voice_ref(voice),
        params=params,
        lexicon=lexicon,
        text_format=req.text_format,
    )
    # Markup is not spoken, counted nor billed: the words as written are.
    marked = req.text_format != markup.TEXT or markup.has_markup(req.text)
    written = " ".join(segment.text for segment in plan.segments) if marked else req.text
    return {
        "voice": voice,
        "voice_name": voice.name,
        "voice_builtin": voice.is_builtin,
        "engine": engine.name,
        "language": engine.resolve_language(language),
        "text": req.text,
        "text_format": req.text_format,
        "lexicon": lexicon.to_list(),
        "status_note": " ".join(plan.notes),
        "params": params.to_dict(),
        "instructions": req.instructions,
        "output_format": req.output_format,
        "word_count": textmod.count_words(written),
        "character_count": textmod.count_characters(written),
    }


def job_params_resolve(*, voice: Any, given: Mapping[str, Any] | None) -> SynthesisParams:
    """The parameters a job speaks with: the request's own values, then the voice's
    defaults (`Voice.settings`, docs/voice-cloning.md "Voice settings"), then the
    engine's. The one place they are combined, so every route that queues a job gets the
    same answer; the job stores the result, so the worker never looks again."""
    if given is not None and not isinstance(given, Mapping):
        return SynthesisParams.from_dict(given)  # its InvalidParams names `params`
    return SynthesisParams.from_dict({**(getattr(voice, "settings", None) or {}), **dict(given or {})})


def job_lexicon(*, user: User, text: str, dictionaries: tuple[Locator, ...] | None) -> Lexicon:
    """The pronunciation rules a job keeps: those of its dictionaries (or the account's
    default) whose grapheme occurs in its text."""
    return lexicon_for_request(owner=user, locators=dictionaries).used_in(text)


def job_text_check(*, text: str) -> int:
    """The text-length guard of every job (a production's segments included); returns the
    spoken characters. The limit counts what is spoken and billed (count_characters: no
    emotion tags, runs of spaces as one), the one count the dashboard shows; the raw text,
    tags and spacing included, may be at most twice that (docs/api.md "Speech: jobs and
    streams")."""
    limit = settings.MAX_TEXT_LENGTH
    if len(text) > 2 * limit:
        raise ApiError(
            f"Text is {len(text)} characters long with its tags and spacing; at most {2 * limit} are accepted "
            f"(and {limit} spoken characters).",
            details={"text": [f"At most {limit} characters."], "limit": limit},
        )
    characters = textmod.count_characters(text)
    if characters > limit:
        raise ApiError(
            f"Text is {characters} characters (emotion tags and extra spaces not counted); the limit is {limit}. "
            "Shorten it or split it into several jobs.",
            details={"text": [f"At most {limit} characters."], "limit": limit},
        )
    return characters


def job_engine_for(*, voice: Any) -> Any:
    """The engine that speaks `voice`, or EngineUnavailable (a 409) when this server
    cannot. The engine object, not loaded: validation reads config and vocab only, so
    the web process never loads XTTS weights (workers do)."""
    registry = get_registry()
    reason = registry.reason(voice.engine)
    if reason is not None:
        raise EngineUnavailable(reason, engine=voice.engine)  # -> 409
    return registry.engine(voice.engine)


def job_priority_for(mode: str) -> int:
    """The scheduling class of a new job (docs/ARCHITECTURE.md, "Fair scheduling"):
    someone listening (a stream, a synchronous request, a preview) comes first."""
    if mode in (SynthesisJob.Mode.STREAM, SynthesisJob.Mode.PREVIEW):
        return SynthesisJob.Priority.INTERACTIVE
    if mode == SynthesisJob.Mode.SEGMENT:
        return SynthesisJob.Priority.BULK
    return SynthesisJob.Priority.JOB


def job_create(
    *,
    user: User,
    req: JobRequest,
    api_key: APIKey | None = None,
    idempotency_key: str | None = None,
    mode: str = SynthesisJob.Mode.JOB,
    stream_channel: str = "",
) -> tuple[SynthesisJob, bool]:
    """Queue a job. Returns (job, created). The same Idempotency-Key with the same body
    returns the first job; with a different body it is a 409."""
    digest = _request_hash(req)
    if idempotency_key:
        existing = SynthesisJob.objects.filter(owner=user, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _idempotent_replay(existing, digest), False
    fields = job_validate(user=user, req=req)
    if stream_channel and not worker_alive_exists():
        # A stream relayed by a separate worker waits for one: with none alive the
        # client would wait for nothing (docs/operations.md "Scale-out").
        raise ServiceUnavailable(
            "No engine worker is running to serve this stream; retry shortly.",
            details={"heartbeat_max_age_seconds": settings.WORKER_HEARTBEAT_MAX_AGE},
            headers={"Retry-After": str(min(30, settings.WORKER_HEARTBEAT_MAX_AGE))},
        )
    try:
        with transaction.atomic():
            # The cap and quota checks and the insert are one step per user: the user's
            # row lock queues concurrent creates, so the caps are exact (docs/api.md "Speech: jobs and streams").
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
                priority=job_priority_for(mode),
                stream_channel=stream_channel,
                idempotency_key=idempotency_key or None,
                request_hash=digest,
                **fields,
            )
    except IntegrityError:
        # A concurrent request with the same Idempotency-Key won the race.
        existing = SynthesisJob.objects.get(owner=user, idempotency_key=idempotency_key)
        return _idempotent_replay(existing, digest), False
    job_created_announce(job=job)
    return job, True


def job_created_announce(*, job: SynthesisJob) -> None:
    """What every new job sends, whoever queued it (a request, or a production's
    segments: synthesis.segment_jobs): the audit entry, and once committed the
    `job.queued` event for a queued job (a stream's or preview's job is followed by its
    own protocol, a segment's by its production's events)."""
    audit_record(
        action="job.created",
        user=job.owner,
        target_type="synthesis_job",
        target_id=str(job.pk),
        details={"voice": job.voice_name, "engine": job.engine, "characters": job.character_count, "mode": job.mode},
    )
    if job.mode == SynthesisJob.Mode.JOB:
        transaction.on_commit(lambda: _announce_queued(job))


def _idempotent_replay(existing: SynthesisJob, digest: str) -> SynthesisJob:
    if existing.request_hash != digest:
        raise Conflict(
            "This Idempotency-Key was already used with a different request body.",
            details={"job_id": str(existing.pk)},
        )
    return existing


def _announce_queued(job: SynthesisJob) -> None:
    job_announce_queued(job)
    wake_worker()


# --------------------------------------------------------------------------- owner actions


def job_cancel(*, job: SynthesisJob) -> SynthesisJob:
    """The owner stops a queued or running job; a worker generating it sees its lease
    gone at the next sentence and stops (synthesis.queue.job_renew_lease)."""
    if job.status not in SynthesisJob.ACTIVE:
        raise Conflict(f"The job is already {job.status}.", details={"status": job.status})
    SynthesisJob.objects.active().filter(pk=job.pk).update(
        status=Status.CANCELLED, finished_at=timezone.now(), lease_owner="", lease_expires_at=None
    )
    job.refresh_from_db()
    job_announce_cancelled(job)
    return job


def job_delete_files(job: SynthesisJob) -> None:
    """Remove the job's stored audio and every cached encoding of it."""
    for path in media.job_audio_files(job.audio_file):
        path.unlink(missing_ok=True)


def job_delete(*, job: SynthesisJob) -> None:
    """Delete a job and its audio. A running job is cancelled first."""
    if job.status in SynthesisJob.ACTIVE:
        SynthesisJob.objects.filter(pk=job.pk).update(status=Status.CANCELLED)
    paths = media.job_audio_files(job.audio_file)
    job_id = str(job.pk)
    job.delete()
    for path in paths:
        path.unlink(missing_ok=True)
    audit_record(action="job.deleted", target_type="synthesis_job", target_id=job_id)


def jobs_bulk_delete(*, user: User, ids: list[str]) -> int:
    jobs = list(SynthesisJob.objects.filter(owner=user, pk__in=ids))
    for job in jobs:
        job_delete(job=job)
    return len(jobs)


def active_jobs_for(user_id: int) -> list[SynthesisJob]:
    """The user's active jobs for a reconnecting socket's snapshot; a production's
    segments (there may be thousands) are summed up by its own events instead."""
    return list(SynthesisJob.objects.active().filter(owner_id=user_id).exclude(mode=SynthesisJob.Mode.SEGMENT))


# --------------------------------------------------------------------------- workers (a read)


def worker_alive_exists(*, now: datetime | None = None) -> bool:
    """Is any engine worker alive: a heartbeat newer than WORKER_HEARTBEAT_MAX_AGE, or a
    lease it still renews (a worker inside one long generation heartbeats late; the same
    rule as the health page's). Heartbeats are written by the queue's workers
    (synthesis.queue.worker_heartbeat_record); job_create asks before a relayed stream."""
    now = now or timezone.now()
    if WorkerHeartbeat.objects.filter(
        last_seen__gte=now - timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE)
    ).exists():
        return True
    return (
        SynthesisJob.objects.live_leases(now)
        .filter(lease_owner__in=Subquery(WorkerHeartbeat.objects.values("worker_id")))
        .exists()
    )
