"""Erasing an account's synthesis data (privacy.erasure, docs/privacy.md): every job of
the owner, whatever its mode, cancelled first when it is still queued or running (with
the metric, audit entry and `job.cancelled` event job_cancel sends; a worker speaking one
sees its lease gone at the next sentence and removes its attempt's file), then its row
and audio; then the owner's usage rows. Synthesis stays the only writer of jobs and
usage rows."""

from __future__ import annotations

from core import media
from synthesis.models import SynthesisJob, UsageRecord
from synthesis.segment_jobs import segment_jobs_cancel, segment_jobs_delete


def owner_jobs_cancel(*, owner_id: int) -> int:
    """Cancel every queued or running job of the owner; returns how many."""
    ids = list(SynthesisJob.objects.active().filter(owner_id=owner_id).values_list("pk", flat=True))
    return len(segment_jobs_cancel(job_ids=ids))


def owner_synthesis_erase(*, owner_id: int) -> int:
    """Delete every job of the owner with its audio, and the owner's usage rows; returns
    how many jobs went."""
    owner_jobs_cancel(owner_id=owner_id)
    ids = list(SynthesisJob.objects.filter(owner_id=owner_id).values_list("pk", flat=True))
    deleted = segment_jobs_delete(job_ids=ids)
    UsageRecord.objects.filter(user_id=owner_id).delete()
    media.remove_owner_job_dir(owner_id=owner_id)
    return deleted
