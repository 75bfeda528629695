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

import logging
from typing import Callable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger("speaker.worker")

ENGINE_CHANNEL = "engine"

_local_waker: Callable[[], None] | None = None


def set_local_waker(waker: Callable[[], None] | None) -> None:
    """The embedded worker of this process (None when it stops)."""
    global _local_waker
    _local_waker = waker


def wake_worker() -> None:
    """Tell a worker that there is work (after the transaction committed)."""
    waker = _local_waker
    if waker is not None:
        waker()
        return
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.send)(ENGINE_CHANNEL, {"type": "engine.wake"})
    except Exception:  # full or unreachable: the periodic sweep will find the job
        logger.warning("could not send a wake-up to the engine channel", exc_info=True)
