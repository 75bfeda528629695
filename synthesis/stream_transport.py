"""How a stream job's audio travels from the engine to the web process that answers the
request (and the per-process cap on concurrent streams). Starting a stream and shaping
its HTTP response is `synthesis.stream_service`.

Audio leaves the server sentence by sentence while later sentences are still being made.

A stream is a job with `mode=stream`, so it is queued, claimed, leased, stored and
billed like any other job and shows up in history. Where the engine runs:
- embedded default (EMBEDDED_WORKER): the web process claims the job itself and runs the
  engine in a thread, chunks handed to the response through an asyncio queue;
- separate workers: the job waits in the queue (streams are claimed before queued jobs);
  the worker that claims it sends chunks over the channel layer to `job.stream_channel`,
  which the web process reads.
A client that disconnects cancels the job, so the worker stops at the next sentence.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from core.errors import ServiceUnavailable
from speech import audio as audiomod
from speech.timings import WordTiming
from synthesis.models import SynthesisJob
from synthesis.queue import job_stream_watch, wake_worker
from synthesis.services import job_cancel

logger = logging.getLogger("speaker.streaming")

STREAM_FORMATS = audiomod.STREAM_FORMATS


# ------------------------------------------------------------------ concurrency cap


class ConcurrencyLimiter:
    """MAX_CONCURRENT_REQUESTS synchronous/streaming generations per process: past it,
    callers get 503 + Retry-After at once instead of piling up."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.active = 0

    def acquire(self) -> None:
        with self._lock:
            if self.active >= settings.MAX_CONCURRENT_REQUESTS:
                raise ServiceUnavailable(
                    f"The server is generating {self.active} requests, its limit; retry shortly.",
                    details={"limit": settings.MAX_CONCURRENT_REQUESTS},
                    headers={"Retry-After": "2"},
                )
            self.active += 1

    def release(self) -> None:
        with self._lock:
            self.active = max(0, self.active - 1)


limiter = ConcurrencyLimiter()


# ------------------------------------------------------------------ web side


@dataclass(frozen=True)
class StreamWords:
    """Words of a stream job just timed by the engine (docs/ARCHITECTURE.md, "Word
    timings"), in seconds from the stream's start; they come after their audio."""

    words: list[WordTiming]
    method: str


# What a stream job's source yields: (float32 chunk, sample rate), or StreamWords.
StreamItem = tuple[np.ndarray, int] | StreamWords


async def job_chunks(job: SynthesisJob) -> AsyncIterator[tuple[np.ndarray, int]]:
    """Yield (float32 chunk, sample rate) of a stream job as the engine makes them.
    Cancels the job if the consumer stops early (client disconnect)."""
    items = job_stream_items(job)
    try:
        async for item in items:
            if not isinstance(item, StreamWords):
                yield item
    finally:
        await items.aclose()  # at once, so a client that left cancels the job now


async def job_stream_items(job: SynthesisJob) -> AsyncIterator[StreamItem]:
    """Yield a stream job's audio chunks (float32 chunk, sample rate) as the engine
    makes them, and its word timings (StreamWords) as each segment ends. Cancels the
    job if the consumer stops early (client disconnect)."""
    finished = False
    try:
        if settings.EMBEDDED_WORKER:
            source = _in_process_chunks(job)
        else:
            source = _channel_chunks(job)
        async for item in source:
            yield item
        finished = True
    finally:
        if not finished:
            await sync_to_async(_cancel_if_active)(job.pk)


def _cancel_if_active(job_id: Any) -> None:
    job = SynthesisJob.objects.active().filter(pk=job_id).first()
    if job is not None:
        job_cancel(job=job)


# Embedded default: the web process runs the stream's generation itself. The engine
# worker lives in the layer above (engine_host), which hands its runner in at start-up
# (engine_host.apps), so this module never imports the worker (docs/ARCHITECTURE.md).
InProcessSource = Callable[[SynthesisJob], AsyncIterator[StreamItem]]
_in_process_source: InProcessSource | None = None


def set_in_process_source(source: InProcessSource | None) -> None:
    global _in_process_source
    _in_process_source = source


def _in_process_chunks(job: SynthesisJob) -> AsyncIterator[StreamItem]:
    if _in_process_source is None:
        raise ServiceUnavailable("No engine runs in this process; start `python manage.py runengine`.")
    return _in_process_source(job)


# Between chunks of a relayed stream, the job row is looked at this often (at most), so
# that a worker whose lease ran out ends the stream before STREAM_IDLE_TIMEOUT.
STREAM_WATCH_SECONDS = 1.0


async def _channel_chunks(job: SynthesisJob) -> AsyncIterator[StreamItem]:
    """Chunks relayed by the worker that claimed the job. Never waits for ever: with no
    message for a while it asks job_stream_watch whether the worker is still there
    (docs/operations.md "Scale-out": STREAM_IDLE_TIMEOUT)."""
    layer = get_channel_layer()
    await sync_to_async(wake_worker)()
    loop = asyncio.get_running_loop()
    check_every = min(STREAM_WATCH_SECONDS, settings.STREAM_IDLE_TIMEOUT)
    last_heard = loop.time()
    receiving: asyncio.Future | None = None
    try:
        while True:
            if receiving is None:
                receiving = asyncio.ensure_future(layer.receive(job.stream_channel))
            # wait() leaves the receive running on a timeout: no message is lost.
            done, _ = await asyncio.wait({receiving}, timeout=check_every)
            if not done:
                verdict = await sync_to_async(job_stream_watch)(job_id=job.pk, idle_seconds=loop.time() - last_heard)
                if verdict.done:
                    if verdict.error:
                        raise StreamFailed(verdict.error)
                    return
                continue
            message = receiving.result()
            receiving = None
            last_heard = loop.time()
            if message.get("type") == "stream.end":
                if message.get("error"):
                    raise StreamFailed(message["error"])
                return
            if message.get("type") == "stream.words":
                words = [WordTiming(str(w["text"]), float(w["start"]), float(w["end"])) for w in message["words"]]
                yield StreamWords(words=words, method=str(message["method"]))
                continue
            yield audiomod.from_s16le(message["pcm"]), int(message["sample_rate"])
    finally:
        if receiving is not None:
            receiving.cancel()


class StreamFailed(Exception):
    pass
