"""Starting a streamed generation and shaping its HTTP response (shared by the stream
endpoint and the OpenAI-compatible endpoint)."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.http import StreamingHttpResponse

from accounts.models import APIKey, User
from core.engines import get_registry
from core.errors import ApiError
from speech import audio as audiomod
from speech.encoders import IncrementalEncoder
from speech.timings import WordTiming
from synthesis.models import SynthesisJob
from synthesis.quotas import quota_state
from synthesis.services import JobRequest, job_create
from synthesis.stream_transport import STREAM_FORMATS, StreamFailed, StreamWords, job_chunks, job_stream_items, limiter

logger = logging.getLogger("speaker.streaming")


def stream_job_create(*, user: User, req: JobRequest, api_key: APIKey | None) -> SynthesisJob:
    """Take a concurrency slot and create the stream job (the caller releases the slot
    when the response ends)."""
    limiter.acquire()
    try:
        channel = ""
        if not settings.EMBEDDED_WORKER:
            # The layer's default prefix: a process's channels then share one Redis list,
            # so a websocket consumer of this process that is waiting on the layer reads
            # the stream's chunks too (channels_redis lets one receiver at a time poll).
            channel = async_to_sync(get_channel_layer().new_channel)()
        job, _ = job_create(user=user, req=req, api_key=api_key, mode=SynthesisJob.Mode.STREAM, stream_channel=channel)
        return job
    except BaseException:
        limiter.release()
        raise


def _check_stream_format(fmt: str) -> None:
    if fmt not in STREAM_FORMATS:
        raise ApiError(
            f"Streaming supports {', '.join(STREAM_FORMATS)}.",
            details={"format": [f"Choose one of {', '.join(STREAM_FORMATS)} to stream."]},
        )


def stream_start(*, user: User, req: JobRequest, api_key: APIKey | None) -> StreamingHttpResponse:
    _check_stream_format(req.output_format)
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
    add_status_note_header(response, job)
    if fmt == "pcm":
        for name, value in audiomod.pcm_headers(rate).items():
            response[name] = value
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    return response


@dataclass
class StreamMeter:
    """What an encoded stream measured, for a caller that reports it when the stream
    ends (OpenAI's SSE usage): seconds of audio made, and why it failed if it did."""

    seconds: float = 0.0
    failed: str | None = None


async def encoded_stream(
    job: SynthesisJob, fmt: str, *, target_rate: int | None = None, meter: StreamMeter | None = None
) -> AsyncIterator[bytes]:
    encoder: IncrementalEncoder | None = None
    released = False
    try:
        async for chunk, rate in job_chunks(job):
            if meter is not None:
                meter.seconds += len(chunk) / rate
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
        if meter is not None:
            meter.failed = str(exc)
    finally:
        if not released:
            limiter.release()


# ------------------------------------------------------------ audio with word timings


@dataclass
class TimedPiece:
    """A piece of a stream with word timings: encoded audio (possibly empty) and the
    words timed since the previous piece, in seconds from the stream's start (a word's
    audio is always in this piece or an earlier one). `error` is set on the last piece
    of a stream that failed."""

    audio: bytes = b""
    words: list[WordTiming] = field(default_factory=list)
    method: str | None = None
    error: str | None = None


# Given the engine's sample rate, the encoder of the stream's audio.
EncoderFactory = Callable[[int], IncrementalEncoder]


async def timed_stream(
    job: SynthesisJob,
    encoder_for: EncoderFactory,
    *,
    per_segment: bool = False,
) -> AsyncIterator[TimedPiece]:
    """A stream job's audio, encoded by `encoder_for(sample_rate)`, with its word
    timings as each segment ends (docs/ARCHITECTURE.md, "Word timings").

    By default each audio chunk is a piece as soon as it is made and the words come in
    pieces of their own; with `per_segment`, a segment's audio is held until its words
    are known and both go out as one piece (one piece per segment: what a client that
    wants each piece's audio and alignment together needs). The concurrency slot taken
    by stream_job_create is freed when the stream ends. A failed stream ends with a
    piece whose `error` says why (the job row says it too)."""
    encoder: IncrementalEncoder | None = None
    released = False
    held = bytearray()
    items = job_stream_items(job)
    try:
        async for item in items:
            if isinstance(item, StreamWords):
                yield TimedPiece(audio=bytes(held), words=list(item.words), method=item.method)
                held.clear()
                continue
            chunk, rate = item
            if encoder is None:
                encoder = encoder_for(rate)
            data = encoder.encode(chunk)
            if per_segment:
                held += data
            elif data:
                yield TimedPiece(audio=data)
        limiter.release()
        released = True
        tail = encoder.close() if encoder is not None else b""
        if held or tail:
            yield TimedPiece(audio=bytes(held) + tail)
    except StreamFailed as exc:
        logger.warning("stream for job %s failed: %s", job.pk, exc)
        yield TimedPiece(audio=bytes(held), error=str(exc))
    finally:
        await items.aclose()  # at once: a client that left cancels the job now
        if not released:
            limiter.release()


NDJSON_CONTENT_TYPE = "application/x-ndjson"


def stream_start_with_timings(*, user: User, req: JobRequest, api_key: APIKey | None) -> StreamingHttpResponse:
    """The stream endpoint's NDJSON variant: one JSON object per line, audio pieces
    (base64 of the stream's `format`) as they are made, word timings after each
    segment, and a last line saying how it ended (docs/api.md "Word timings and captions")."""
    _check_stream_format(req.output_format)
    job = stream_job_create(user=user, req=req, api_key=api_key)
    sample_rate = get_registry().engine(job.engine).sample_rate
    fmt = req.output_format
    response = StreamingHttpResponse(
        _ndjson_lines(timed_stream(job, lambda rate: IncrementalEncoder(fmt, rate))), content_type=NDJSON_CONTENT_TYPE
    )
    response["X-Job-ID"] = str(job.pk)
    response["X-Sample-Rate"] = str(sample_rate)
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"
    add_status_note_header(response, job)
    add_quota_headers(response, user)
    return response


async def _ndjson_lines(pieces: AsyncIterator[TimedPiece]) -> AsyncIterator[bytes]:
    failed: str | None = None
    try:
        async for piece in pieces:
            if piece.audio:
                yield _line({"type": "audio", "audio_base64": base64.b64encode(piece.audio).decode("ascii")})
            if piece.words:
                yield _line({"type": "words", "method": piece.method, "words": [w.to_dict() for w in piece.words]})
            if piece.error:
                failed = piece.error
        yield _line({"type": "error", "message": failed} if failed else {"type": "end"})
    finally:
        await pieces.aclose()  # type: ignore[attr-defined]


def _line(obj: dict) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def add_status_note_header(response: StreamingHttpResponse | object, job: SynthesisJob) -> None:
    """What a job's `status_note` says (a capped break, markup read as text, a phoneme
    rule the engine could not say), for a stream whose body is audio: `X-Status-Note`,
    non-ASCII characters escaped (a header is latin-1)."""
    if job.status_note:
        response["X-Status-Note"] = job.status_note.encode("ascii", "backslashreplace").decode()  # type: ignore[index]


def add_quota_headers(response: StreamingHttpResponse | object, user: User) -> None:
    state = quota_state(user=user)
    response["X-Characters-Used"] = str(state.used + state.reserved)  # type: ignore[index]
    response["X-Characters-Remaining"] = str(state.remaining)  # type: ignore[index]
