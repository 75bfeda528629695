"""Audio retention (AUDIO_RETENTION_DAYS, docs/privacy.md): a generated job's audio older
than that is deleted by the workers' periodic sweep; the job stays in its owner's history
with `audio_expired` set, and its download answers 410 (synthesis.downloads).

A production's segments are left alone: their audio is the production's material (a
regenerated segment is assembled with the others), deleted with the production."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from synthesis.models import SynthesisJob
from synthesis.services import job_delete_files

# Jobs expired per transaction: a moment each, even on SQLite's one writer.
BATCH = 100


def audio_retention_cutoff(*, now: datetime | None = None) -> datetime | None:
    """Audio finished before this is past its retention; None when retention is off."""
    days = settings.AUDIO_RETENTION_DAYS
    if not days:
        return None
    return (now or timezone.now()) - timedelta(days=days)


def job_audio_expire(*, finished_before: datetime) -> int:
    """Delete the audio of every completed job (segments excepted) finished before
    `finished_before`, in short batches; returns how many jobs lost their audio. The
    row is marked first and the files go after its commit, so a download either finds
    the file or answers 410, never a row pointing at nothing."""
    expired = 0
    while True:
        batch = list(
            SynthesisJob.objects.filter(
                status=SynthesisJob.Status.COMPLETED, audio_expired=False, finished_at__lt=finished_before
            )
            .exclude(mode=SynthesisJob.Mode.SEGMENT)
            .exclude(audio_file="")
            .only("pk", "audio_file")[:BATCH]
        )
        if not batch:
            return expired
        with transaction.atomic():
            for job in batch:
                # Conditional on the file it had: a row changed meanwhile is left to the next sweep.
                job.audio_expired = bool(
                    SynthesisJob.objects.filter(pk=job.pk, audio_file=job.audio_file).update(
                        audio_expired=True, audio_file=""
                    )
                )
        for job in batch:
            if job.audio_expired:
                job_delete_files(job)
                expired += 1
        if len(batch) < BATCH:
            return expired


def audio_retention_sweep(*, now: datetime | None = None) -> int:
    """What the worker's sweep runs: expire what is past AUDIO_RETENTION_DAYS (nothing when off)."""
    cutoff = audio_retention_cutoff(now=now)
    return 0 if cutoff is None else job_audio_expire(finished_before=cutoff)
