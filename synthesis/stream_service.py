"""Starting a streamed generation and shaping its HTTP response (shared by the stream
endpoint and the OpenAI-compatible endpoint)."""

from __future__ import annotations

import logging
from typing import AsyncIterator

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.http import StreamingHttpResponse

from accounts.models import APIKey, User
from core.errors import ApiError
from speech import audio as audiomod
from core.engines import get_registry
from synthesis.models import SynthesisJob
from synthesis.quotas import quota_state
from synthesis.services import JobRequest, job_create
from speech.encoders import IncrementalEncoder
from synthesis.streaming import STREAM_FORMATS, StreamFailed, job_chunks, limiter

logger = logging.getLogger("speaker.streaming")


def stream_job_create(*, user: User, req: JobRequest, api_key: APIKey | None) -> SynthesisJob:
    """Take a concurrency slot and create the stream job (the caller releases the slot
    when the response ends)."""
    limiter.acquire()
    try:
        channel = ""
        if not settings.EMBEDDED_WORKER:
            channel = async_to_sync(get_channel_layer().new_channel)("stream.")
        job, _ = job_create(user=user, req=req, api_key=api_key, mode=SynthesisJob.Mode.STREAM, stream_channel=channel)
        return job
    except BaseException:
        limiter.release()
        raise


def stream_start(*, user: User, req: JobRequest, api_key: APIKey | None) -> StreamingHttpResponse:
    if req.output_format not in STREAM_FORMATS:
        raise ApiError(
            f"Streaming supports {', '.join(STREAM_FORMATS)}.",
            details={"format": [f"Choose one of {', '.join(STREAM_FORMATS)} to stream."]},
        )
    job = stream_job_create(user=user, req=req, api_key=api_key)
    sample_rate = get_registry().engine(job.engine).sample_rate
    response = streaming_audio_response(job, req.output_format, sample_rate=sample_rate, content_type=None)
    add_quota_headers(response, user)
    return response


def streaming_audio_response(
    job: SynthesisJob, fmt: str, *, sample_rate: int, content_type: str | None, target_rate: int | None = None
) -> StreamingHttpResponse:
    """The chunked response of a stream job in `fmt` (any of IncrementalEncoder's), at
    `target_rate` when given (resampled as it goes), else the engine's `sample_rate`.
    Every response names its rate (X-Sample-Rate); raw pcm also in its content type."""
    rate = target_rate or sample_rate
    response = StreamingHttpResponse(
        encoded_stream(job, fmt, target_rate=target_rate), content_type=content_type or audiomod.content_type(fmt, rate)
    )
    response["X-Job-ID"] = str(job.pk)
    response["X-Sample-Rate"] = str(rate)
    if fmt == "pcm":
        for name, value in audiomod.pcm_headers(rate).items():
            response[name] = value
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


async def encoded_stream(job: SynthesisJob, fmt: str, *, target_rate: int | None = None) -> AsyncIterator[bytes]:
    encoder: IncrementalEncoder | None = None
    released = False
    try:
        async for chunk, rate in job_chunks(job):
            if encoder is None:
                encoder = IncrementalEncoder(fmt, rate, target_rate=target_rate)
            data = encoder.encode(chunk)
            if data:
                yield data
        # Free the slot before the last bytes go out, so that a client that starts its
        # next request the moment this body ends finds the slot free.
        limiter.release()
        released = True
        if encoder is not None:
            tail = encoder.close()
            if tail:
                yield tail
    except StreamFailed as exc:
        # Headers are gone already; the short body is the signal, the job row says why.
        logger.warning("stream for job %s failed: %s", job.pk, exc)
    finally:
        if not released:
            limiter.release()


def add_quota_headers(response: StreamingHttpResponse | object, user: User) -> None:
    state = quota_state(user=user)
    response["X-Characters-Used"] = str(state.used + state.reserved)  # type: ignore[index]
    response["X-Characters-Remaining"] = str(state.remaining)  # type: ignore[index]
