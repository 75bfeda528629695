"""Where engine workers run (docs/ARCHITECTURE.md, "Hosting"): thin adapters around
`EngineWorker`.

- `runengine` (engine_host/management/commands/runengine.py): a process hosting
  `EngineWorkerConsumer` on the channel layer's `engine` channel.
- Embedded default (EMBEDDED_WORKER): one worker thread inside the web process, started
  with the server (speaker_site.routing), registered as the local waker.
- In-process streams (embedded default): the web process claims its own stream job and
  runs it with a throwaway worker, chunks handed over through a `QueueRelay`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from asgiref.sync import sync_to_async
from channels.consumer import SyncConsumer
from django.db import connections

from core.errors import ServiceUnavailable
from engine_host.relays import END, QueueRelay
from engine_host.worker import EngineWorker, _live_workers, host_worker_id
from synthesis.models import SynthesisJob
from synthesis.queue import job_claim, set_local_waker
from synthesis.stream_transport import StreamFailed, StreamItem, StreamWords

_embedded: EngineWorker | None = None
_embedded_lock = threading.Lock()
_exit_hook_installed = False


class EngineWorkerConsumer(SyncConsumer):
    """Hosted on the `engine` channel by `runengine`: wake-ups from the web processes
    set the worker's event; the worker loop itself runs in its own thread."""

    worker: EngineWorker | None = None

    def engine_wake(self, message: dict[str, Any]) -> None:
        target = EngineWorkerConsumer.worker or _embedded
        if target is not None:
            target.wake()


def start_embedded_worker() -> EngineWorker:
    """The embedded default: one worker thread inside the web process."""
    global _embedded
    with _embedded_lock:
        if _embedded is None:
            _install_exit_hook()
            _embedded = EngineWorker()
            _embedded.start_thread()
            set_local_waker(_embedded.wake)
        return _embedded


def _install_exit_hook() -> None:
    """Stop this process's workers when the server exits (Ctrl-C, SIGTERM: daphne stops
    its reactor and returns from main). The hook runs before the interpreter waits for
    its threads and tears down native libraries: a daemon thread still inside
    onnxruntime or torch then aborts the process ("terminate called without an active
    exception"), and the running job would stay leased for WORKER_LEASE_SECONDS."""
    global _exit_hook_installed
    if _exit_hook_installed:
        return
    _exit_hook_installed = True
    # threading's exit hooks run at the start of interpreter shutdown, before it joins
    # non-daemon threads (in-process streams run in threads of their own) and before atexit.
    threading._register_atexit(stop_all_workers)  # type: ignore[attr-defined]


def stop_all_workers(timeout: float = 30.0) -> None:
    """Ask every worker of this process to stop (release or fail its job) and wait for
    the claim loops to finish."""
    global _embedded
    with _embedded_lock:
        _embedded = None
        set_local_waker(None)
    workers = list(_live_workers)
    for worker in workers:
        worker.stop()
    deadline = time.monotonic() + timeout
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))


def stop_embedded_worker(timeout: float = 30.0) -> None:
    global _embedded
    with _embedded_lock:
        worker, _embedded = _embedded, None
        set_local_waker(None)
    if worker is not None:
        worker.stop()
        worker.join(timeout)


def _run_in_own_thread(
    loop: asyncio.AbstractEventLoop, worker: EngineWorker, job: SynthesisJob, relay: QueueRelay
) -> asyncio.Future[None]:
    """Generate an in-process stream in a thread of its own, not in the event loop's
    default executor: that pool has `cpu_count + 4` threads, which concurrent streams
    would fill (each waits for its turns on the model) while the web process's own
    `sync_to_async` calls queue behind them. Not a daemon: interpreter shutdown waits
    for it after the exit hook has stopped it (see `_install_exit_hook`)."""
    done: asyncio.Future[None] = loop.create_future()

    def settle(error: BaseException | None) -> None:
        if done.done():
            return
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)

    def generate() -> None:
        error: BaseException | None = None
        try:
            worker.run_job(job, relay)
        except BaseException as exc:  # handed to the awaiting stream
            error = exc
        finally:
            connections.close_all()  # this thread's database connections die with it
            try:
                loop.call_soon_threadsafe(settle, error)
            except RuntimeError:  # the loop is gone (server shutting down): nobody awaits
                pass

    threading.Thread(target=generate, name=f"stream-{str(job.pk)[:8]}").start()
    return done


async def in_process_chunks(job: SynthesisJob) -> AsyncIterator[StreamItem]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    relay = QueueRelay(job, loop, queue)
    # A host-and-pid id: if this process dies mid-stream, the next start on this host
    # fails the job at once (engine_host.worker.abandoned_lease_owners).
    worker = EngineWorker(worker_id=host_worker_id("stream-"), heartbeats=False)
    claimed = await sync_to_async(job_claim)(job_id=job.pk, worker_id=worker.worker_id)
    if claimed is None:
        raise ServiceUnavailable("The stream could not start.")
    runner = _run_in_own_thread(loop, worker, claimed, relay)
    try:
        while True:
            item, extra = await queue.get()
            if item is END:
                if extra:
                    raise StreamFailed(extra)
                return
            yield item if isinstance(item, StreamWords) else (item, extra)
    finally:
        relay.cancelled = True
        await asyncio.shield(runner)
