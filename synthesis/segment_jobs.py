"""Segment jobs: the job operations a long-form production needs (docs/ARCHITECTURE.md,
"Long-form productions"), kept in synthesis so that the jobs a production queues,
withdraws and deletes are checked, prioritised, announced, counted and audited by the
same code as a job a user asks for directly (synthesis.services). `productions` never
writes a SynthesisJob or a UsageRecord itself (tests/architecture).

A production's segments may be thousands: every operation takes many jobs at once and
writes them in short batches, so no other user's request waits on one long
transaction (SQLite has one writer at a time).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import APIKey, User
from monitoring.services import audit_record
from speech import text as textmod
from speech.pronunciation import Lexicon
from synthesis.job_events import job_announce_cancelled
from synthesis.models import SynthesisJob
from synthesis.services import (
    job_created_announce,
    job_delete_files,
    job_engine_for,
    job_params_resolve,
    job_priority_for,
    job_text_check,
)
from voices.models import Voice
from voices.selectors import voice_ref, voice_resolve_for_synthesis

Status = SynthesisJob.Status

# Rows written (or changed) per transaction: a moment each, even on SQLite.
BATCH = 100


@dataclass(frozen=True)
class SegmentSpeaker:
    """A voice resolved for a production's segments and the engine that speaks it."""

    voice: Voice
    engine: Any  # the engine object, not loaded (as synthesis.services.job_validate)
    language: str


@dataclass(frozen=True)
class SegmentJobSpec:
    """One segment job to queue: its text, speaker and seed (None: the params' own)."""

    text: str
    characters: int
    speaker: SegmentSpeaker
    seed: int | None = None


def segment_speaker_resolve(*, user: User, ref: str, language: str | None) -> SegmentSpeaker:
    """Resolve a voice reference as job_validate does: 404 voice_not_found, 409 when the
    voice is not ready or its engine is missing."""
    voice = voice_resolve_for_synthesis(user=user, ref=ref)
    engine = job_engine_for(voice=voice)
    return SegmentSpeaker(voice=voice, engine=engine, language=engine.resolve_language(language or voice.language))


def segment_text_validate(
    *, text: str, speaker: SegmentSpeaker, params: Mapping[str, Any], lexicon: Lexicon | None = None
) -> None:
    """Check a segment's text fully now (length, markup, language, params, voice), as
    job_validate checks a job: a bad passage is a 400 naming it, never a failed segment
    an hour later. `params`: the production's own, over the voice's defaults;
    `lexicon`: the production's pronunciation rules."""
    job_text_check(text=text)
    resolved = job_params_resolve(voice=speaker.voice, given=params)
    speaker.engine.plan(
        text, language=speaker.language, voice=voice_ref(speaker.voice), params=resolved, lexicon=lexicon
    )


def segment_jobs_build(
    *,
    owner_id: int,
    api_key: APIKey | None,
    params: Mapping[str, Any],
    specs: Sequence[SegmentJobSpec],
    lexicon: Lexicon | None = None,
) -> list[SynthesisJob]:
    """Unsaved jobs for `specs`, for segment_jobs_enqueue (the caller links them to its
    segments before they are written). `params`: the production's own parameters; each
    job's are resolved over its voice's defaults as any job's (job_params_resolve). Each
    job keeps the rules of `lexicon` (the production's, one set for all its segments)
    that its text uses."""
    lexicon = lexicon or Lexicon()
    priority = job_priority_for(SynthesisJob.Mode.SEGMENT)
    jobs = []
    for spec in specs:
        given = {**params, "seed": spec.seed} if spec.seed is not None else params
        job_params = job_params_resolve(voice=spec.speaker.voice, given=given)
        jobs.append(
            SynthesisJob(
                owner_id=owner_id,
                api_key=api_key,
                mode=SynthesisJob.Mode.SEGMENT,
                priority=priority,
                voice=spec.speaker.voice,
                voice_name=spec.speaker.voice.name,
                voice_builtin=spec.speaker.voice.is_builtin,
                engine=spec.speaker.engine.name,
                language=spec.speaker.language,
                text=spec.text,
                lexicon=lexicon.used_in(spec.text).to_list(),
                params=job_params.to_dict(),
                output_format="wav",
                word_count=textmod.count_words(spec.text),
                character_count=spec.characters,
            )
        )
    return jobs


def segment_jobs_enqueue(*, owner: User, jobs: Sequence[SynthesisJob]) -> list[SynthesisJob]:
    """Write the jobs segment_jobs_build made, inside the caller's (short) transaction;
    once it commits each is recorded as job_create records one (job_created_announce),
    outside the transaction as there. The caller wakes the workers (core.wakeup)."""
    created = SynthesisJob.objects.bulk_create(jobs)
    for job in created:
        job.owner = owner

    def announce() -> None:
        for job in created:
            job_created_announce(job=job)

    transaction.on_commit(announce)
    return created


def segment_jobs_cancel(*, job_ids: Iterable[Any], statuses: Sequence[str] = SynthesisJob.ACTIVE) -> list[SynthesisJob]:
    """Cancel the jobs among `job_ids` that are in `statuses`, in short batches; each one
    sends what job_cancel sends (metric, audit entry, `job.cancelled` event). A worker
    speaking one sees its lease gone at the next sentence. Returns the cancelled jobs."""
    cancelled: list[SynthesisJob] = []
    ids = list(job_ids)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        with transaction.atomic():
            hit = list(
                SynthesisJob.objects.select_for_update()
                .filter(pk__in=chunk, status__in=statuses)
                .values_list("pk", flat=True)
            )
            SynthesisJob.objects.filter(pk__in=hit, status__in=statuses).update(
                status=Status.CANCELLED, finished_at=timezone.now(), lease_owner="", lease_expires_at=None
            )
        cancelled += SynthesisJob.objects.filter(pk__in=hit).select_related("owner")
    for job in cancelled:
        job_announce_cancelled(job)
    return cancelled


def segment_jobs_delete(*, job_ids: Iterable[Any]) -> int:
    """Delete jobs and their audio (as job_delete does one): the active ones are
    cancelled first, with their events; rows go in short batches, then the files."""
    ids = list(job_ids)
    segment_jobs_cancel(job_ids=ids)
    deleted = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        jobs = list(SynthesisJob.objects.filter(pk__in=chunk).only("pk", "audio_file"))
        with transaction.atomic():
            SynthesisJob.objects.filter(pk__in=[job.pk for job in jobs]).delete()
        for job in jobs:
            job_delete_files(job)
            audit_record(action="job.deleted", target_type="synthesis_job", target_id=str(job.pk))
        deleted += len(jobs)
    return deleted
