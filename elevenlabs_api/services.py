"""The ElevenLabs-compatible API's services: every generation is a Speaker stream job
(queued, claimed, billed against the quota and kept in history like any other, through
synthesis.stream_service), cloning goes through voices.services.voice_create under the
account's cloning attestation, and the rest are reads of Speaker's own rows shaped as
ElevenLabs' SDK expects them (elevenlabs_api.selectors)."""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass
from typing import Any, AsyncIterator, Sequence

import numpy as np
from asgiref.sync import async_to_sync, sync_to_async
from django.core.files.uploadedfile import UploadedFile
from django.http import StreamingHttpResponse

from accounts.models import APIKey, User
from core.errors import ApiError, Conflict
from elevenlabs_api.formats import OutputFormat
from elevenlabs_api.requests import SpeechBody
from speech.timings import char_alignment
from synthesis.models import SynthesisJob
from synthesis.services import JobRequest
from synthesis.stream_service import add_quota_headers, stream_job_create
from synthesis.streaming import StreamFailed, job_chunks, limiter
from synthesis.timings import job_timings
from voices.models import Voice
from voices.selectors import clone_languages
from voices.services import voice_create
from voices.services.attestation import ATTESTATION_API_PATH, ATTESTATION_DASHBOARD_PATH, attestation_current

logger = logging.getLogger("speaker.elevenlabs")


# ------------------------------------------------------------------ text to speech


def speech_start(*, user: User, api_key: APIKey, voice_id: str, body: SpeechBody) -> SynthesisJob:
    """Validate and queue the generation as a stream job (a concurrency slot is taken;
    the response releases it). `voice_id`: a voice id, or a voice's name."""
    req = JobRequest(text=body.text, voice=voice_id, language=body.language, output_format="wav", params=body.params)
    return stream_job_create(user=user, req=req, api_key=api_key)


def speech_audio_response(*, job: SynthesisJob, fmt: OutputFormat) -> StreamingHttpResponse:
    """The audio, streamed as the engine makes it, in `fmt`."""
    response = StreamingHttpResponse(_audio_chunks(job, fmt), content_type=fmt.content_type)
    _stream_headers(response, job, fmt)
    return response


def speech_timestamps_stream_response(*, job: SynthesisJob, fmt: OutputFormat) -> StreamingHttpResponse:
    """Newline-delimited JSON, one `{audio_base64, alignment, normalized_alignment}` per
    audio chunk as the engine makes it. The character alignment comes from the job's
    stored word timings, so it rides on the last line, once the job is complete (the
    chunks before carry `alignment: null`); clients that join the chunks' alignments,
    as ElevenLabs' own do, get the whole text's."""
    response = StreamingHttpResponse(_timestamp_lines(job, fmt), content_type="application/x-ndjson")
    _stream_headers(response, job, fmt)
    return response


def speech_with_timestamps(*, job: SynthesisJob, fmt: OutputFormat) -> dict[str, Any]:
    """Wait for the whole generation, then answer the audio (base64) with its character
    alignment from the job's word timings."""
    pcm, rate = async_to_sync(_collect)(job)
    job.refresh_from_db()
    if job.status != SynthesisJob.Status.COMPLETED or pcm.size == 0:
        raise ApiError(
            f"The generation did not complete ({job.status}): {job.error_message or 'no audio was made'}.",
            code=job.error_code or "generation_failed",
            status_code=500,
        )
    encoder = fmt.encoder(rate)
    audio = encoder.encode(pcm) + encoder.close()
    alignment = alignment_of(job)
    return {
        "audio_base64": base64.b64encode(audio).decode("ascii"),
        "alignment": alignment,
        # Speaker speaks the text as written (no separate normalisation step it could
        # report), so the normalised text is the text.
        "normalized_alignment": alignment,
    }


def alignment_of(job: SynthesisJob) -> dict[str, Any]:
    """ElevenLabs' character alignment of a completed job's text from its word timings
    (synthesis.timings.job_timings: the engine's, stored with the job), each word's span
    spread over its characters (speech.timings.char_alignment). `timings_method` (an
    extra field the SDK keeps) says whether the words were timed exactly or estimated."""
    timings = job_timings(job=job)
    characters, starts, ends = char_alignment(job.text, timings.words)
    return {
        "characters": characters,
        "character_start_times_seconds": starts,
        "character_end_times_seconds": ends,
        "timings_method": timings.method,
    }


def _stream_headers(response: StreamingHttpResponse, job: SynthesisJob, fmt: OutputFormat) -> None:
    response["X-Job-ID"] = str(job.pk)
    response["history-item-id"] = str(job.pk)  # ElevenLabs' own header naming the history item
    response["request-id"] = str(job.pk)
    response["X-Sample-Rate"] = str(fmt.rate)
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"
    add_quota_headers(response, job.owner)


async def _audio_chunks(job: SynthesisJob, fmt: OutputFormat) -> AsyncIterator[bytes]:
    async for data, _final in _encoded(job, fmt):
        if data:
            yield data


async def _timestamp_lines(job: SynthesisJob, fmt: OutputFormat) -> AsyncIterator[bytes]:
    async for data, final in _encoded(job, fmt):
        alignment = None
        if final:
            await sync_to_async(job.refresh_from_db)()
            try:
                alignment = await sync_to_async(alignment_of)(job)
            except Conflict as exc:  # not completed after all (cancelled as it ended): audio only
                logger.warning("no alignment for job %s: %s", job.pk, exc.message)
        elif not data:
            continue
        line = {"audio_base64": base64.b64encode(data).decode("ascii"), "alignment": alignment, "normalized_alignment": alignment}
        yield json.dumps(line).encode() + b"\n"


async def _encoded(job: SynthesisJob, fmt: OutputFormat) -> AsyncIterator[tuple[bytes, bool]]:
    """(bytes, is_last) of the job's audio in `fmt` as it is made. The last item comes
    once the job is complete (the worker completes the job before it ends the stream);
    a stream that fails ends without it (headers are gone: the short body is the signal,
    the job row says why)."""
    encoder = None
    released = False
    try:
        async for chunk, rate in job_chunks(job):
            if encoder is None:
                encoder = fmt.encoder(rate)
            yield encoder.encode(chunk), False
        # Free the slot before the last bytes go out (synthesis.stream_service does the same).
        limiter.release()
        released = True
        yield (encoder.close() if encoder is not None else b""), True
    except StreamFailed as exc:
        logger.warning("elevenlabs stream for job %s failed: %s", job.pk, exc)
    finally:
        if not released:
            limiter.release()


async def _collect(job: SynthesisJob) -> tuple[np.ndarray, int]:
    parts: list[np.ndarray] = []
    rate = 0
    try:
        async for chunk, chunk_rate in job_chunks(job):
            parts.append(np.asarray(chunk, dtype=np.float32).reshape(-1))
            rate = chunk_rate
    except StreamFailed as exc:
        logger.warning("elevenlabs generation for job %s failed: %s", job.pk, exc)
    finally:
        limiter.release()
    return (np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)), rate


# ------------------------------------------------------------------ voices


@dataclass(frozen=True)
class VoiceAdd:
    name: str
    files: Sequence[UploadedFile]
    description: str
    labels: dict[str, str]


def parse_labels(raw: str | None) -> dict[str, str]:
    """`labels`: a JSON object of strings, as the SDK sends it (`null` or empty: none)."""
    if raw is None or not raw.strip() or raw.strip() == "null":
        return {}
    try:
        labels = json.loads(raw)
    except ValueError as exc:
        raise ApiError("labels must be a JSON object of strings, e.g. {\"language\": \"en\"}.", details={"labels": [str(exc)]}) from exc
    if labels is None:
        return {}
    if not isinstance(labels, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
        raise ApiError("labels must be a JSON object of strings, e.g. {\"language\": \"en\"}.", details={"labels": ["not an object of strings"]})
    return labels


def attestation_required_error() -> ApiError:
    return ApiError(
        "Cloning through the ElevenLabs-compatible API needs your account's cloning attestation, because this "
        "request has no consent field. Accept it once in the dashboard at "
        f"{ATTESTATION_DASHBOARD_PATH} or with POST {ATTESTATION_API_PATH} and the body {{\"accept\": true}}, "
        "then retry.",
        code="cloning_attestation_required",
        status_code=403,
    )


def voice_add(*, user: User, request: VoiceAdd) -> Voice:
    """Instant voice cloning: only under the account's cloning attestation (403 without
    it); the clone's consent record keeps the sample hashes and points to it. Language:
    `labels.language`, else English (or the cloning engine's first language)."""
    attestation = attestation_current(user=user)
    if attestation is None:
        raise attestation_required_error()
    languages = clone_languages()
    language = request.labels.get("language") or ("en" if "en" in languages else (languages[0] if languages else "en"))
    return voice_create(
        user=user,
        name=request.name,
        language=language,
        samples=list(request.files),
        consent=True,  # the standing attestation is the consent; recorded below with the hashes
        description=request.description,
        attestation=attestation,
    )
