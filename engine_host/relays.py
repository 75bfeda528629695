"""How a worker hands a stream job's audio to the web process waiting on it.

The caller of `EngineWorker.run_job` chooses the relay: the claim loop uses
`relay_for(job)` (nothing for queued jobs, the channel layer for relayed streams), the
web process serving its own stream in the embedded default passes a `QueueRelay`
(engine_host.hosting.in_process_chunks)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import numpy as np
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from speech import audio as audiomod
from speech.timings import WordTiming
from synthesis.models import SynthesisJob
from synthesis.stream_transport import StreamWords

logger = logging.getLogger("speaker.streaming")

# The end-of-stream marker a QueueRelay puts on its queue.
END = object()


class StreamRelay:
    """Relays nothing: a queued job's audio is only stored."""

    def __init__(self, job: SynthesisJob | None) -> None:
        self.job = job
        self.cancelled = False

    def send_chunk(self, chunk: np.ndarray, sample_rate: int) -> None:
        return None

    def send_words(self, words: list[WordTiming], method: str) -> None:
        """Words just timed (seconds from the stream's start), after their audio."""
        return None

    def finish(self, error: str | None = None) -> None:
        return None


def relay_for(job: SynthesisJob) -> StreamRelay:
    """The relay a worker's claim loop uses: streams and previews have a listener on the
    channel layer; queued jobs have none."""
    if job.mode == SynthesisJob.Mode.JOB:
        return StreamRelay(None)
    return ChannelStreamRelay(job)


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

    def send_words(self, words: list[WordTiming], method: str) -> None:
        self._send({"type": "stream.words", "words": [w.to_dict() for w in words], "method": method})

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

    def send_words(self, words: list[WordTiming], method: str) -> None:
        self._hand_over((StreamWords(words=list(words), method=method), None))

    def finish(self, error: str | None = None) -> None:
        self._hand_over((END, error))

    def _hand_over(self, item: tuple[Any, Any]) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the server's loop is closed (shutting down): nobody listens
            self.cancelled = True
