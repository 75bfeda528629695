"""Usage accounting: one `UsageRecord` per finished generation."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from synthesis.models import SynthesisJob, UsageRecord


def usage_record_generation(*, job: SynthesisJob) -> UsageRecord | None:
    """Record a finished job once (the job id is unique); returns None if it already was."""
    if job.mode in (SynthesisJob.Mode.PREVIEW, SynthesisJob.Mode.SEGMENT):
        # Previews are the platform's; segments are billed with their production.
        return None
    succeeded = job.status == SynthesisJob.Status.COMPLETED
    try:
        with transaction.atomic():
            return UsageRecord.objects.create(
                job_id=job.pk,
                user_id=job.owner_id,
                api_key_id=job.api_key_id,
                api_key_prefix=job.api_key.prefix if job.api_key_id else "",
                voice_name=job.voice_name,
                engine=job.engine,
                language=job.language,
                succeeded=succeeded,
                characters=job.character_count if succeeded else 0,
                words=job.word_count if succeeded else 0,
                audio_seconds=(job.audio_duration or 0.0) if succeeded else 0.0,
            )
    except IntegrityError:
        return None
