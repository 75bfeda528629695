"""Streamed synthesis: audio leaves the server sentence by sentence while later sentences
are still being made.

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
import io
import logging
import threading
from typing import Any, AsyncIterator

import numpy as np
import soundfile as sf
import soxr
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from speaker_site.errors import ServiceUnavailable
from synthesis import audio as audiomod
from synthesis.models import SynthesisJob
from synthesis.worker import StreamRelay, wake_worker

logger = logging.getLogger("speaker.streaming")

STREAM_FORMATS = audiomod.STREAM_FORMATS
_END = object()


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


# ------------------------------------------------------------------ relays (worker side)


class ChannelStreamRelay(StreamRelay):
    """Worker side of a stream when the web process is elsewhere: chunks go over the
    channel layer as s16le bytes (compact, and what the client gets anyway)."""

    def __init__(self, job: SynthesisJob) -> None:
        super().__init__(job)
        self.channel = job.stream_channel
        self._layer = get_channel_layer()

    def _send(self, message: dict[str, Any]) -> None:
        if self._layer is None or not self.channel:
            return
        try:
            async_to_sync(self._layer.send)(self.channel, message)
        except Exception:  # the listener is gone (client left): stop generating
            logger.info("stream listener for job %s is gone", self.job.pk if self.job else "?")
            self.cancelled = True

    def send_chunk(self, chunk: np.ndarray, sample_rate: int) -> None:
        self._send({"type": "stream.chunk", "pcm": audiomod.to_s16le(chunk), "sample_rate": sample_rate})

    def finish(self, error: str | None = None) -> None:
        self._send({"type": "stream.end", "error": error})


class QueueRelay(StreamRelay):
    """Worker side of an in-process stream: hands chunks to the response's event loop."""

    def __init__(self, job: SynthesisJob, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue) -> None:
        super().__init__(job)
        self._loop = loop
        self._queue = queue

    def send_chunk(self, chunk: np.ndarray, sample_rate: int) -> None:
        self._hand_over((chunk, sample_rate))

    def finish(self, error: str | None = None) -> None:
        self._hand_over((_END, error))

    def _hand_over(self, item: tuple[Any, Any]) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the server's loop is closed (shutting down): nobody listens
            self.cancelled = True


# ------------------------------------------------------------------ encoders


class _GrowingBuffer(io.RawIOBase):
    """A file for soundfile that remembers what has been handed out: bytes before
    `sent` are on the wire already, so a late header rewrite (MP3's) is dropped."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.pos = 0
        self.sent = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def write(self, b: Any) -> int:
        chunk = bytes(b)
        self.data[self.pos : self.pos + len(chunk)] = chunk
        self.pos += len(chunk)
        return len(chunk)

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.pos, 2: len(self.data)}[whence]
        self.pos = base + offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def take(self) -> bytes:
        out = bytes(self.data[self.sent :])
        self.sent = len(self.data)
        return out


# Formats IncrementalEncoder writes: the stream endpoint's, plus flac and Ogg Opus for
# /v1/audio/speech (README "Audio formats").
ENCODER_FORMATS: tuple[str, ...] = ("pcm", "wav", "mp3", "ogg", "flac", "opus")
# Opus encodes only these rates.
OPUS_SAMPLE_RATES: tuple[int, ...] = (8000, 12000, 16000, 24000, 48000)
# (libsndfile container, subtype) of the formats written through a growing file.
_CONTAINERS: dict[str, tuple[str, str]] = {
    "mp3": ("MP3", "MPEG_LAYER_III"),
    "ogg": ("OGG", "VORBIS"),
    "flac": ("FLAC", "PCM_16"),
    "opus": ("OGG", "OPUS"),
}


# Formats whose readers need the length in the header: FLAC written before its length is
# known says "unknown", which libsndfile (soundfile, and Speaker's own reader) cannot
# read. They come out whole at close, header complete (README "Audio formats").
WHOLE_FILE_FORMATS: tuple[str, ...] = ("flac",)


class IncrementalEncoder:
    """Turns float32 chunks into the bytes of one growing file of `fmt`, resampled on
    the fly to `target_rate` when given (soxr's streaming resampler keeps its filter
    state between chunks, so the joins are seamless). Each chunk's bytes come out as
    soon as the codec has a frame, except for WHOLE_FILE_FORMATS (all at close)."""

    def __init__(self, fmt: str, sample_rate: int, *, target_rate: int | None = None) -> None:
        if fmt not in ENCODER_FORMATS:
            raise ValueError(fmt)
        rate = target_rate or sample_rate
        if fmt == "opus" and rate not in OPUS_SAMPLE_RATES:
            raise ValueError(f"opus needs one of the rates {OPUS_SAMPLE_RATES}, not {rate}")
        self.fmt = fmt
        self.input_rate = sample_rate
        self.sample_rate = rate
        self._resampler: soxr.ResampleStream | None = None
        if rate != sample_rate:
            self._resampler = soxr.ResampleStream(sample_rate, rate, 1, dtype="float32", quality="HQ")
        self._started = False
        self._buffer: _GrowingBuffer | None = None
        self._file: sf.SoundFile | None = None
        if fmt in _CONTAINERS:
            # A file that grows: what libsndfile writes is handed out chunk by chunk;
            # its closing rewrite of the header (MP3's Xing tag, FLAC's STREAMINFO
            # totals) falls on bytes already sent and is dropped, which both formats
            # allow ("length unknown").
            self._buffer = _GrowingBuffer()
            container, subtype = _CONTAINERS[fmt]
            extra: dict[str, Any] = {}
            if fmt == "mp3":
                # Constant bitrate: the VBR header LAME fills in at close cannot reach a
                # client that has the start already, and without it a VBR stream's
                # length is misread from its first frame (libmpg123 stopped at 0.6 s
                # of 3 s). A CBR stream's length follows from its size.
                extra = {"bitrate_mode": "CONSTANT", "compression_level": 0.5}
            self._file = sf.SoundFile(
                self._buffer, mode="w", samplerate=rate, channels=1, format=container, subtype=subtype, **extra
            )

    def encode(self, chunk: np.ndarray) -> bytes:
        audio = audiomod.as_mono_float32(chunk)
        if self._resampler is not None:
            audio = self._resampler.resample_chunk(audio)
        return self._write(audio)

    def close(self) -> bytes:
        tail = b""
        if self._resampler is not None:
            # The resampler holds back a filter's length of samples until told it is the end.
            tail = self._write(self._resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True))
            self._resampler = None
        if self._file is not None and self._buffer is not None:
            self._file.close()
            self._file = None
            return tail + self._buffer.take()
        return tail

    @property
    def streams(self) -> bool:
        """Whether bytes come out before close."""
        return self.fmt not in WHOLE_FILE_FORMATS

    def _write(self, audio: np.ndarray) -> bytes:
        if self._file is not None and self._buffer is not None:
            if audio.size:
                self._file.write(audio)
            # Held formats are taken at close only, so libsndfile's closing header
            # rewrite lands on bytes not yet sent.
            return self._buffer.take() if self.streams else b""
        prefix = b""
        if self.fmt == "wav" and not self._started:
            prefix = audiomod.wav_stream_header(self.sample_rate)
        self._started = True
        return prefix + audiomod.to_s16le(audio)


# ------------------------------------------------------------------ web side


async def job_chunks(job: SynthesisJob) -> AsyncIterator[tuple[np.ndarray, int]]:
    """Yield (float32 chunk, sample rate) of a stream job as the engine makes them.
    Cancels the job if the consumer stops early (client disconnect)."""
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
    from synthesis.services import job_cancel

    job = SynthesisJob.objects.filter(pk=job_id, status__in=SynthesisJob.ACTIVE).first()
    if job is not None:
        job_cancel(job=job)


async def _in_process_chunks(job: SynthesisJob) -> AsyncIterator[tuple[np.ndarray, int]]:
    from synthesis.services import job_claim
    from synthesis.worker import EngineWorker, host_worker_id

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    relay = QueueRelay(job, loop, queue)
    # A host-and-pid id: if this process dies mid-stream, the next start on this host
    # fails the job at once (synthesis.worker.abandoned_lease_owners).
    worker = EngineWorker(worker_id=host_worker_id("stream-"), heartbeats=False)
    claimed = await sync_to_async(job_claim)(job_id=job.pk, worker_id=worker.worker_id)
    if claimed is None:
        raise ServiceUnavailable("The stream could not start.")
    runner = asyncio.ensure_future(sync_to_async(worker.run_job, thread_sensitive=False)(claimed, relay=relay))
    try:
        while True:
            item, extra = await queue.get()
            if item is _END:
                if extra:
                    raise StreamFailed(extra)
                return
            yield item, extra
    finally:
        relay.cancelled = True
        await asyncio.shield(runner)


# Between chunks of a relayed stream, the job row is looked at this often (at most), so
# that a worker whose lease ran out ends the stream before STREAM_IDLE_TIMEOUT.
STREAM_WATCH_SECONDS = 1.0


async def _channel_chunks(job: SynthesisJob) -> AsyncIterator[tuple[np.ndarray, int]]:
    """Chunks relayed by the worker that claimed the job. Never waits for ever: with no
    message for a while it asks job_stream_watch whether the worker is still there
    (README "Scale-out": STREAM_IDLE_TIMEOUT)."""
    from synthesis.services import job_stream_watch

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
            yield audiomod.from_s16le(message["pcm"]), int(message["sample_rate"])
    finally:
        if receiving is not None:
            receiving.cancel()


class StreamFailed(Exception):
    pass
