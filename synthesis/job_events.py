"""What every job transition tells the world: the owner's websocket event, the
Prometheus series and the audit log (docs/ARCHITECTURE.md, "The queue").

One function per transition. The function that makes the transition (a conditional
UPDATE in synthesis.queue or synthesis.services) calls it once the UPDATE succeeded, so
each event has one sender whoever asks for the transition:

    queued     synthesis.services.job_create (after commit; queued jobs, not streams)
    started    synthesis.queue (the claim)
    progress   synthesis.queue.job_renew_lease (a new progress value)
    completed  synthesis.queue.job_complete
    failed     synthesis.queue (job_fail, the worker_lost paths)
    cancelled  synthesis.services.job_cancel
    requeued   synthesis.queue (a release, an expired or abandoned lease)

It sits below both the queue and the services (the import contract in .importlinter),
so neither has to import the other for an event or a metric.
"""

from __future__ import annotations

from typing import Any

from core.events import send_user_event
from monitoring.metrics import observe_generation, record_error, voice_label
from monitoring.services import audit_record
from synthesis.models import SynthesisJob

__all__ = [
    "job_announce_cancelled",
    "job_announce_completed",
    "job_announce_failed",
    "job_announce_progress",
    "job_announce_queued",
    "job_announce_requeued",
    "job_announce_started",
    "job_event_payload",
    "job_observe",
]

Status = SynthesisJob.Status


def job_event_payload(job: SynthesisJob) -> dict[str, Any]:
    """The body of every `job.*` event (and of a socket's snapshot of active jobs)."""
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
        # Listeners' requests (streams, previews) are "stream"; queued and long-form
        # segment jobs keep their own label.
        mode=job.mode if job.mode in (SynthesisJob.Mode.JOB, SynthesisJob.Mode.SEGMENT) else "stream",
        status=status,
    )


def _send(job: SynthesisJob, event: str) -> None:
    send_user_event(user_id=job.owner_id, event=event, payload=job_event_payload(job))


# --------------------------------------------------------------------------- transitions


def job_announce_queued(job: SynthesisJob) -> None:
    """A job was queued (its row committed)."""
    _send(job, "job.queued")


def job_announce_started(job: SynthesisJob) -> None:
    """A worker claimed the job: it is running."""
    _send(job, "job.started")


def job_announce_progress(job: SynthesisJob) -> None:
    """The job's progress moved (once per step, not per audio chunk)."""
    _send(job, "job.progress")


def job_announce_completed(
    *, job: SynthesisJob, seconds: float, audio_seconds: float, first_audio_seconds: float | None
) -> None:
    """The job's audio is stored and the job completed."""
    job_observe(
        job=job, status="success", seconds=seconds, audio_seconds=audio_seconds, first_audio_seconds=first_audio_seconds
    )
    _send(job, "job.completed")


def job_announce_failed(job: SynthesisJob) -> None:
    """The job failed (an engine error, a stream cut short, its worker lost)."""
    record_error(job.error_code or "job_failed")
    job_observe(job=job, status="failure")
    audit_record(
        action="job.failed",
        user=job.owner,
        outcome="failure",
        target_type="synthesis_job",
        target_id=str(job.pk),
        details={"code": job.error_code, "message": job.error_message[:500], "attempts": job.attempts},
    )
    _send(job, "job.failed")


def job_announce_cancelled(job: SynthesisJob) -> None:
    """The owner (or a stream's departed client) cancelled the job."""
    job_observe(job=job, status="cancelled")
    audit_record(action="job.cancelled", user=job.owner, target_type="synthesis_job", target_id=str(job.pk))
    _send(job, "job.cancelled")


def job_announce_requeued(job: SynthesisJob) -> None:
    """The job went back to the queue: its worker stopped (release) or was lost (an
    expired or abandoned lease); another attempt starts over."""
    _send(job, "job.requeued")
