"""The engine worker: a long-lived loop that loads the engines once, claims jobs from the
queue (synthesis.queue, which owns every state change of a job), prepares cloned voices'
conditioning, and keeps a heartbeat.

Hosting:
- `python manage.py runengine` (PostgreSQL + Redis deployments): a process hosting the
  `EngineWorkerConsumer` on the channel layer's `engine` channel; wake-ups arrive there.
- Embedded default (`EMBEDDED_WORKER`, no Redis): the same loop runs in a thread of the
  web process, so `make run` is one command.

Wake-ups are hints; the loop also sweeps every WORKER_SWEEP_SECONDS, so a lost message
never strands a job. A worker holds up to WORKER_MAX_ACTIVE jobs at once, each in its
own thread with its own claim, lease and renewals; their segments interleave on the
worker's one loaded model by priority class (docs/ARCHITECTURE.md, "Fair scheduling").
Which job it takes, and whom it wakes, is the queue's answer to its free slots
(synthesis.queue.job_claim_for_worker); the worker runs what it is given. More
throughput comes from more worker processes and GPUs.

Stopping (docs/operations.md "Engine workers"): SIGINT/SIGTERM stop every worker of the process
before the interpreter exits (runengine's handlers; the embedded worker through an exit
hook), so a native engine thread is never torn down mid-generation. A queued job being
generated goes back to the queue without counting an attempt; a stream fails (its
listener cannot resume it). A worker that starts requeues at once the jobs that earlier
runs of itself on this host left leased (`abandoned_lease_owners`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
import weakref
from datetime import UTC, datetime
from typing import Any

import numpy as np
import soundfile
from django.conf import settings
from django.db import OperationalError, close_old_connections, connections
from django.utils import timezone

from core import media
from core.db import loop_connections_check, loop_connections_close
from core.engines import get_registry
from engine_host.relays import StreamRelay, relay_for
from privacy.models import DataExport
from privacy.sweep import data_retention_sweep, export_build_next
from speech import audio as audiomod
from speech.engines.errors import EngineError
from speech.engines.params import SynthesisParams
from speech.pronunciation import Lexicon
from speech.timings import Timings
from synthesis.models import SynthesisJob
from synthesis.queue import (
    WorkerClaim,
    WorkerSlots,
    job_claim_for_worker,
    job_complete,
    job_fail,
    job_note,
    job_release,
    job_renew_lease,
    job_requeue_abandoned,
    job_requeue_expired,
    running_lease_owners,
    wake_worker,
    worker_heartbeat_record,
    worker_heartbeat_remove,
    worker_heartbeats_prune,
)
from voices.selectors import voice_ref, voices_needing_preparation
from voices.services import builtin_voices_sync, voice_prepare, voice_requeue_pending
from webhooks.loop import WebhookDeliverer

logger = logging.getLogger("speaker.worker")

# Every worker of this process (the claim loop and the web process's in-process stream
# runs), so that shutdown can stop them all.
_live_workers: weakref.WeakSet[EngineWorker] = weakref.WeakSet()


def host_worker_id(suffix: str = "") -> str:
    """`<hostname>:<pid>:<random>`: the host and process are part of the id, so that a
    later run on this host can tell its predecessors' leases (abandoned_lease_owners)."""
    return f"{socket.gethostname()}:{os.getpid()}:{suffix}{uuid.uuid4().hex[:6]}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def abandoned_lease_owners(owners: list[str], *, worker_id: str) -> list[str]:
    """Lease owners among `owners` that are earlier runs on this host, hence gone:
    - the same explicit id (`runengine --worker-id alpha` restarted: ids are unique to a
      running worker, so the old `alpha` is dead);
    - a generated id `<this host>:<pid>:…` whose process no longer exists, or whose pid
      is ours (a container restarted with the same pid) while the id is not ours.
    Leases of live processes, and of other hosts, are left to expire."""
    host = socket.gethostname()
    gone = []
    for owner in owners:
        if owner == worker_id:
            gone.append(owner)
            continue
        parts = owner.rsplit(":", 2)
        if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
            continue
        pid = int(parts[1])
        if pid == os.getpid() or not _pid_alive(pid):
            gone.append(owner)
    return gone


class JobAborted(Exception):
    """The job stopped being ours (cancelled, or the lease was lost)."""


class EngineWorker:
    """One worker: one claim loop, up to `max_active` jobs at once (a thread each)."""

    def __init__(self, *, worker_id: str | None = None, heartbeats: bool = True, max_active: int | None = None) -> None:
        self.worker_id = worker_id or host_worker_id()
        self.max_active = max(1, int(max_active if max_active is not None else settings.WORKER_MAX_ACTIVE))
        # The jobs being generated now, by id, with their threads.
        self._active: dict[Any, tuple[SynthesisJob, threading.Thread]] = {}
        self._active_lock = threading.Lock()
        # A web process serving one in-process stream runs a job with a throwaway worker:
        # it is not a worker that readiness or the health page should count.
        self.heartbeats = heartbeats
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.jobs_done = 0
        self._last_heartbeat = 0.0
        self._last_prune = 0.0
        self._last_retention = 0.0
        # People's data exports are built one at a time per worker, in a thread of their
        # own, so that a big zip never holds up the claims (privacy.sweep).
        self._export_thread: threading.Thread | None = None
        # From the queue's latest answer (synthesis.queue.WorkerClaim): when a stream it
        # leaves to a less-loaded worker becomes this one's to claim, and the streams
        # left to others, handed back with the next request.
        self.claim_retry_at: datetime | None = None
        self._left_to_others: frozenset = frozenset()
        self.started_at = timezone.now()
        _live_workers.add(self)

    # -------------------------------------------------------------- control

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Finish or release the current job, then exit the loop."""
        self._stop.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def start_thread(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run, name=f"engine-worker-{self.worker_id}", daemon=True)
        self._thread.start()
        return self._thread

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    # -------------------------------------------------------------- loop

    def run(self) -> None:
        logger.info("engine worker %s starting", self.worker_id)
        # Webhook deliveries are sent beside the jobs, in threads of their own: a slow
        # receiver never holds up a claim (docs/ARCHITECTURE.md, "Webhooks").
        webhooks = WebhookDeliverer(worker_id=self.worker_id).start()
        try:
            self._startup()
            while not self._stop.is_set():
                if not self.sweep():
                    self._wake.wait(self._idle_wait())
                    self._wake.clear()
        finally:
            webhooks.stop(timeout=settings.WEBHOOK_TIMEOUT_SECONDS + 1)
            self.join_active()
            self._shutdown()

    def sweep(self) -> bool:
        """The loop's step: `run_once` without waiting, surviving its failure (the
        database was away, say: the connection is dropped and the next sweep opens a new
        one). True if it did something."""
        try:
            return self.run_once(wait=False)
        except Exception:  # the loop must outlive it
            logger.exception("engine worker %s: sweep failed; retrying", self.worker_id)
            loop_connections_close()
            return False

    def _idle_wait(self) -> float:
        """Until the next sweep, or sooner when a stream left to a less-loaded worker
        becomes ours to claim (so it waits at most WORKER_CLAIM_DEFER_SECONDS)."""
        wait = settings.WORKER_SWEEP_SECONDS
        if self.claim_retry_at is not None:
            wait = min(wait, max(0.0, (self.claim_retry_at - timezone.now()).total_seconds()) + 0.01)
        idle_for = settings.ENGINE_IDLE_UNLOAD_SECONDS
        if idle_for > 0 and (due := get_registry().next_idle_unload_in(idle_for)) is not None:
            wait = min(wait, due + 0.01)  # unload on time, not at the next sweep
        return wait

    def _startup(self) -> None:
        close_old_connections()
        registry = get_registry()
        for status in registry.status():
            if status.available:
                try:
                    registry.get(status.name)  # load once, keep warm
                except EngineError as exc:
                    logger.error("engine %s failed to load: %s", status.name, exc)
        builtin_voices_sync()
        self.heartbeat(force=True)
        self.requeue_abandoned()

    def requeue_abandoned(self) -> int:
        """Requeue at once what earlier runs of this worker on this host left leased
        (a crash or kill -9 left no time to release), instead of after the lease."""
        gone = abandoned_lease_owners(running_lease_owners(), worker_id=self.worker_id)
        requeued = job_requeue_abandoned(lease_owners=gone)
        if gone:
            logger.info("requeued %d job(s) left leased by earlier runs on this host: %s", requeued, ", ".join(gone))
        return requeued

    def _shutdown(self) -> None:
        try:
            worker_heartbeat_remove(worker_id=self.worker_id)
        except Exception:
            logger.warning("could not remove heartbeat", exc_info=True)
        close_old_connections()
        logger.info("engine worker %s stopped after %d jobs", self.worker_id, self.jobs_done)

    def run_once(self, *, wait: bool = True) -> bool:
        """One sweep: requeue expired leases, prepare voices, renew the leases of the jobs
        held, and claim jobs up to the free slots, each started in its own thread. True
        if it did something (so the loop goes again at once). With `wait` (callers that
        drive the worker step by step, tests), it returns when the jobs it claimed are
        done; the loop does not wait: a finished job wakes it to claim the next. The
        loop's database connection is kept from one sweep to the next (core.db)."""
        loop_connections_check()
        self.unload_idle_engines()
        self.heartbeat()
        self.prune_heartbeats()
        job_requeue_expired()
        voice_requeue_pending()
        self.renew_active_leases()
        self.retention_sweep()
        export_thread = self.start_export_build()
        did_work = False
        for voice_id in list(voices_needing_preparation().values_list("pk", flat=True)[:5]):
            if self._stop.is_set():
                break
            try:
                voice_prepare(voice_id=voice_id)
            except Exception:
                logger.exception("preparing voice %s failed", voice_id)
            did_work = True
        started: list[threading.Thread] = []
        while not self._stop.is_set():
            claim = job_claim_for_worker(
                worker_id=self.worker_id, slots=self._slots(), left_before=self._left_to_others
            )
            self._follow(claim)
            if claim.job is None:
                break
            started.append(self._start_job(claim.job))
        if wait:
            for thread in (*started, *([export_thread] if export_thread else [])):
                thread.join()
        return did_work or bool(started) or export_thread is not None

    def _slots(self) -> WorkerSlots:
        """This worker's slots as the queue needs them: how many, the class of each job
        whose thread is still running, and the engines it has loaded now (a stream for
        an engine it unloaded goes to a worker that has it loaded, when one is live)."""
        return WorkerSlots(
            size=self.max_active,
            held=tuple(job.priority for job in self.active_jobs),
            loaded=get_registry().loaded_names(),
        )

    def unload_idle_engines(self) -> list[str]:
        """Idle unloading (ENGINE_IDLE_UNLOAD_SECONDS, docs/operations.md "Idle
        unloading"): models that served nothing for that long are freed; the worker
        stays live (its heartbeat goes on, saying what is loaded now) and the next
        request loads them again."""
        idle_for = settings.ENGINE_IDLE_UNLOAD_SECONDS
        if idle_for <= 0 or not self.heartbeats:  # a throwaway stream worker leaves it to the claim loop
            return []
        unloaded = get_registry().unload_idle(idle_for)
        if unloaded:
            logger.info("engine worker %s unloaded idle model(s): %s", self.worker_id, ", ".join(unloaded))
            self.heartbeat(force=True)  # other workers' claims read what is loaded here
        return unloaded

    def _follow(self, claim: WorkerClaim) -> None:
        """The rest of the queue's answer: wake the workers it leaves streams to, on their
        own channels (the shared `engine` channel delivers a wake-up to one worker, perhaps
        this busy one: the idle one must hear of it), and look again at the latest when
        the first of those streams becomes this worker's to claim."""
        for worker_id in claim.wake:
            wake_worker(worker_id)
        self.claim_retry_at = claim.retry_at
        self._left_to_others = claim.left

    def _start_job(self, job: SynthesisJob) -> threading.Thread:
        thread = threading.Thread(
            target=self._run_claimed, args=(job,), name=f"engine-job-{str(job.pk)[:8]}", daemon=True
        )
        with self._active_lock:
            self._active[job.pk] = (job, thread)
        self.heartbeat(force=True)
        thread.start()
        return thread

    def _run_claimed(self, job: SynthesisJob) -> None:
        try:
            self.run_job(job, relay_for(job))
        except Exception:  # run_job handles engine failures; this is the database gone, say
            logger.exception("job %s: the worker could not finish it", job.pk)
        finally:
            with self._active_lock:
                self._active.pop(job.pk, None)
                self.jobs_done += 1
            # Database connections are per thread: this thread's die with it.
            connections.close_all()
            self._wake.set()  # a slot is free: claim the next job now

    @property
    def active_jobs(self) -> list[SynthesisJob]:
        with self._active_lock:
            return [job for job, _ in self._active.values()]

    @property
    def current_job(self) -> SynthesisJob | None:
        """One of the jobs being generated (the oldest claim), for the heartbeat row."""
        jobs = self.active_jobs
        return jobs[0] if jobs else None

    def renew_active_leases(self) -> None:
        """A job waiting for its turn on the model renews no lease by itself: the sweep
        renews them all, so a long line never looks like a dead worker."""
        for job in self.active_jobs:
            job_renew_lease(job=job, worker_id=self.worker_id)

    def join_active(self, timeout: float | None = None) -> None:
        """Wait for the jobs being generated (they release or fail when stopping)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._active_lock:
            threads = [thread for _, thread in self._active.values()]
        for thread in threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))

    def retention_sweep(self) -> None:
        """Expired exports and audio past AUDIO_RETENTION_DAYS deleted (at most once a
        minute; docs/privacy.md)."""
        now = time.monotonic()
        if not self.heartbeats or (self._last_retention and now - self._last_retention < 60):
            return
        self._last_retention = now
        data_retention_sweep()

    def start_export_build(self) -> threading.Thread | None:
        """Build the next queued data export in a thread of its own, unless this worker is
        building one already; returns the thread started."""
        if not self.heartbeats or (self._export_thread is not None and self._export_thread.is_alive()):
            return None
        if not DataExport.objects.filter(status=DataExport.Status.QUEUED).exists():
            return None

        def build() -> None:
            try:
                while not self._stop.is_set() and export_build_next(worker_id=self.worker_id):
                    pass
            except Exception:
                logger.exception("building a data export failed")
            finally:
                connections.close_all()

        self._export_thread = threading.Thread(target=build, name=f"engine-export-{self.worker_id}", daemon=True)
        self._export_thread.start()
        return self._export_thread

    def prune_heartbeats(self) -> None:
        """Dead workers' heartbeat rows are deleted by the living (at most once a minute)."""
        now = time.monotonic()
        if not self.heartbeats or (self._last_prune and now - self._last_prune < 60):
            return
        self._last_prune = now
        worker_heartbeats_prune()

    def heartbeat(self, *, force: bool = False) -> None:
        if not self.heartbeats:
            return
        now = time.monotonic()
        if not force and now - self._last_heartbeat < max(1.0, settings.WORKER_HEARTBEAT_MAX_AGE / 3):
            return
        self._last_heartbeat = now
        engines = [
            {
                "name": s.name,
                "available": s.available,
                "loaded": s.loaded,
                "load_seconds": s.load_seconds,
                "loaded_at": _iso(s.loaded_at),
                "device": s.device,
            }
            for s in get_registry().status()
        ]
        worker_heartbeat_record(
            worker_id=self.worker_id,
            started_at=self.started_at,
            engines=engines,
            current_job=self.current_job,
            jobs_done=self.jobs_done,
        )

    # -------------------------------------------------------------- one job

    def run_job(self, job: SynthesisJob, relay: StreamRelay) -> None:
        """Generate one claimed job. The caller chooses the relay (engine_host.relays): the
        claim loop uses relay_for(job), an in-process stream hands in its QueueRelay. The
        claim said `job.started`; the queue's calls below send the job's other events."""
        try:
            result = self._generate(job, relay)
        except JobAborted:
            relay.finish(error="cancelled")
            logger.info("job %s aborted (cancelled or lease lost)", job.pk)
            return
        except _Released:
            if job.resumable:  # a queued job or a long-form segment: another attempt starts over
                job_release(job=job, worker_id=self.worker_id)
                logger.info("job %s released: worker stopping", job.pk)
            else:  # a listener has part of the audio; a restart from the top cannot continue it
                job_fail(
                    job=job,
                    worker_id=self.worker_id,
                    code="worker_lost",
                    message="The engine worker stopped during the stream; retry the request.",
                )
            relay.finish(error="worker stopping")
            return
        except EngineError as exc:
            job_fail(job=job, worker_id=self.worker_id, code=exc.code, message=exc.message)
            relay.finish(error=exc.message)
            return
        except Exception as exc:  # a crash in an engine must not kill the worker
            logger.exception("job %s failed", job.pk)
            job_fail(job=job, worker_id=self.worker_id, code="engine_error", message=f"{type(exc).__name__}: {exc}")
            relay.finish(error="engine error")
            return
        pcm, sample_rate, first_audio, seconds, timings = result
        relative: str | None = None
        try:
            relative = self._store_audio(job, pcm, sample_rate)
            completed = job_complete(
                job=job,
                worker_id=self.worker_id,
                audio_file=relative,
                audio_duration=len(pcm) / sample_rate,
                sample_rate=sample_rate,
                time_to_first_audio=first_audio,
                synthesis_seconds=seconds,
                timings=timings.to_dict(),
            )
        except Exception:
            # A failing disk or database after the audio was made: the listener, who may
            # have heard all of it, is told the job did not complete rather than left
            # waiting for an end that never comes, and the job fails if it still can.
            logger.exception("job %s: storing its audio failed", job.pk)
            self._fail_unstored(job, relative)
            relay.finish(error="the audio could not be stored")
            return
        relay.finish()
        if not completed:
            # Cancelled, or the lease was lost and another attempt took the job over. The
            # file is this attempt's own (per-attempt name), never the other attempt's.
            stored = media.absolute(relative)
            stored.unlink(missing_ok=True)
            # The owner's folder may be gone with its account (privacy.erasure): leave none behind.
            media.remove_dir_if_empty(stored.parent)

    def _fail_unstored(self, job: SynthesisJob, relative: str | None) -> None:
        """Best effort, after storing a job's audio failed: the job fails (unless the
        database is what failed) and a file written for it is removed."""
        try:
            job_fail(
                job=job,
                worker_id=self.worker_id,
                code="storage_error",
                message="The audio was made but could not be stored; retry the request.",
            )
        except Exception:
            logger.exception("job %s: failing it failed too; its lease runs out instead", job.pk)
        if relative is not None:
            media.absolute(relative).unlink(missing_ok=True)

    def _generate(self, job: SynthesisJob, relay: StreamRelay) -> tuple[np.ndarray, int, float | None, float, Timings]:
        if job.voice is None:
            raise EngineError("the job's voice was deleted")
        engine = self._loaded_engine(job)
        params = SynthesisParams.from_dict(job.params)
        progress = 0.0

        def on_progress(spoken: int, total: int) -> None:
            nonlocal progress
            # 1.0 waits for the stored file (job_complete).
            progress = min(0.99, spoken / max(1, total))

        stream = engine.synthesize(
            job.text,
            language=job.language,
            voice=voice_ref(job.voice),
            params=params,
            on_progress=on_progress,
            priority=job.priority,
            lexicon=Lexicon.from_list(job.lexicon),
            text_format=job.text_format,
        )
        chunks: list[np.ndarray] = []
        started = time.perf_counter()
        first_audio: float | None = None
        words_sent = 0
        renewed = time.monotonic()
        with stream:
            for chunk in stream:
                if first_audio is None:
                    first_audio = time.perf_counter() - started
                chunks.append(chunk)
                # A segment's word timings are known once its audio is out: they go to
                # the listener before the next chunk (the silence after the segment).
                words_sent = self._send_new_words(relay, stream.timings, words_sent)
                relay.send_chunk(chunk, engine.sample_rate)
                if self._stop.is_set():
                    raise _Released()
                # The database is written once per segment (when progress moves: the
                # renewal sends `job.progress`) or when the lease needs it, not for every
                # chunk: this runs between chunks, while the stream may hold its turn on
                # the model, which others wait for. A cancelled job is noticed at its next
                # segment.
                if progress != job.progress or time.monotonic() - renewed >= _renew_every():
                    if not job_renew_lease(job=job, worker_id=self.worker_id, progress=progress):
                        raise JobAborted()
                    renewed = time.monotonic()
                    self.heartbeat()
                if relay.cancelled:
                    raise JobAborted()
        self._send_new_words(relay, stream.timings, words_sent)
        seconds = time.perf_counter() - started
        pcm = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
        return pcm, engine.sample_rate, first_audio, seconds, stream.timings

    def _loaded_engine(self, job: SynthesisJob) -> Any:
        """The job's engine, loaded. A model that is not loaded (idle unloading) is
        loaded now, and the job says so in its `status_note` while it waits, and after."""
        registry = get_registry()
        engine = registry.engine(job.engine)
        if engine.is_loaded:
            return registry.get(job.engine)
        self._note(job, f"Waiting for the {job.engine} model to load.")
        started = time.perf_counter()
        engine = registry.get(job.engine)
        waited = time.perf_counter() - started
        self._note(job, f"Waited {waited:.1f} s for the {job.engine} model to load.")
        if self.heartbeats:
            try:
                self.heartbeat(force=True)  # loaded again: claims elsewhere may prefer this worker
            except OperationalError:  # SQLite busy: the claim loop's next heartbeat says it
                logger.info("job %s: heartbeat after the load deferred", job.pk)
        return engine

    def _note(self, job: SynthesisJob, note: str) -> None:
        """Best effort: the note is for the owner to read, never a reason to fail the
        job. SQLite answers "locked" at once to a write that meets another thread's (the
        claim loop claiming its next job): try again a few times, briefly."""
        for attempt in range(5):
            try:
                job_note(job=job, worker_id=self.worker_id, note=note)
                return
            except OperationalError:
                time.sleep(0.05 * (attempt + 1))
        logger.warning("job %s: could not write its status note %r", job.pk, note)

    @staticmethod
    def _send_new_words(relay: StreamRelay, timings: Timings, sent: int) -> int:
        """Relay the words timed since the last call; returns how many are sent now."""
        if len(timings.words) > sent:
            relay.send_words(timings.words[sent:], timings.method)
        return len(timings.words)

    def _store_audio(self, job: SynthesisJob, pcm: np.ndarray, sample_rate: int) -> str:
        # One name per attempt (core.media.job_audio_relative): a stale attempt and the
        # attempt that took the job over never write, or delete, the same file.
        relative = media.job_audio_relative(owner_id=job.owner_id, job_id=job.pk, attempt=job.attempts)
        target = media.absolute(relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = media.temp_beside(target)
        # Quantise exactly as streams do, so a stored job and a stream of the same request
        # are sample-for-sample identical. The engine's stream yields checked samples
        # (`as_mono_float32`'s: speech.engines.base `_run`), so they are not checked again.
        samples = np.frombuffer(audiomod.s16le_of_mono(pcm), dtype="<i2")
        soundfile.write(temp, samples, sample_rate, format="WAV", subtype="PCM_16")
        temp.replace(target)  # atomic: a reader never sees half a file
        return relative


class _Released(Exception):
    pass


def _iso(unix_time: float | None) -> str | None:
    return datetime.fromtimestamp(unix_time, tz=UTC).isoformat() if unix_time is not None else None


def _renew_every() -> float:
    """Seconds between lease renewals within a segment (XTTS streams several chunks per
    sentence): well inside the lease."""
    return max(0.5, min(5.0, settings.WORKER_LEASE_SECONDS / 6))
