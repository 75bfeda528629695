"""The engine wake-up: "there is work" (a queued job, a voice to prepare).

Job and voice services call `wake_worker()` after their transaction commits. With
separate workers it is one message on the channel layer's `engine` channel (Redis
delivers it to one listening `runengine`); in the embedded default the worker thread of
this process registers itself as the local waker. Wake-ups are hints: every worker also
sweeps the queue every WORKER_SWEEP_SECONDS (docs/ARCHITECTURE.md, "The queue").
It lives in this leaf layer because two apps need it (voices for preparation, synthesis
for jobs); `synthesis.queue` re-exports it as part of the queue's interface.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger("speaker.worker")

ENGINE_CHANNEL = "engine"

_local_waker: Callable[[], None] | None = None


def set_local_waker(waker: Callable[[], None] | None) -> None:
    """The embedded worker of this process (None when it stops)."""
    global _local_waker
    _local_waker = waker


def worker_channel(worker_id: str) -> str:
    """The channel a `runengine` worker also listens on, for wake-ups meant for it alone
    (least-loaded claiming passes a stream on to a less-loaded worker: docs/ARCHITECTURE.md,
    "Fair scheduling"). Channel names allow only [A-Za-z0-9_.-]; worker ids carry ":",
    so the id is spelled out and a digest keeps two ids apart."""
    spelled = re.sub(r"[^A-Za-z0-9_.-]", "-", worker_id)[:60]
    return f"{ENGINE_CHANNEL}.worker.{spelled}.{hashlib.sha1(worker_id.encode()).hexdigest()[:10]}"


def wake_worker(worker_id: str | None = None) -> None:
    """Tell a worker that there is work (after the transaction committed): any listening
    worker, or the one named."""
    waker = _local_waker
    if waker is not None:
        waker()
        return
    layer = get_channel_layer()
    if layer is None:
        return
    channel = ENGINE_CHANNEL if worker_id is None else worker_channel(worker_id)
    try:
        async_to_sync(layer.send)(channel, {"type": "engine.wake"})
    except Exception:  # full or unreachable: the periodic sweep will find the job
        logger.warning("could not send a wake-up to the engine channel", exc_info=True)
