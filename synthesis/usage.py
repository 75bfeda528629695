"""Usage accounting: one `UsageRecord` per finished generation, and one per production."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest

from accounts.models import APIKey, User
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


# A production is billed as one row (its id in job_id): its characters when it is accepted,
# each regenerated revision when it is asked for, less what is never spoken (a revision
# replaced or cancelled before it was spoken). docs/ARCHITECTURE.md, "Long-form productions".


def usage_record_production(
    *,
    production_id: Any,
    user: User,
    api_key: APIKey | None,
    voice_name: str,
    engine: str,
    language: str,
    characters: int,
    words: int,
) -> UsageRecord:
    """Bill a production once, when it is accepted (inside the caller's quota lock)."""
    return UsageRecord.objects.create(
        job_id=production_id,
        user=user,
        api_key=api_key,
        api_key_prefix=api_key.prefix if api_key else "",
        voice_name=voice_name,
        engine=engine,
        language=language,
        characters=characters,
        words=words,
    )


def usage_charge(*, record_job_id: Any, characters: int) -> None:
    """Add characters to a production's row (a regenerated revision)."""
    UsageRecord.objects.filter(job_id=record_job_id).update(characters=F("characters") + characters)


def usage_refund(*, record_job_id: Any, characters: int) -> None:
    """Take back characters that were billed and will never be spoken; never below zero."""
    if characters > 0:
        UsageRecord.objects.filter(job_id=record_job_id).update(
            characters=Greatest(F("characters") - characters, Value(0))
        )


def usage_record_audio(*, record_job_id: Any, audio_seconds: float) -> None:
    """The audio a production's row stands for, once it is assembled."""
    UsageRecord.objects.filter(job_id=record_job_id).update(audio_seconds=audio_seconds)
