"""Reads for the operational endpoints: the queue, voices, engine workers, engines, and
the request figures behind `/metrics`.

Everything shared between processes is read from the database, the one place every web
process and every engine worker writes to; nothing here trusts one process's memory
except `engine_figures()`' "here" part, which says what *this* process has loaded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
from django.utils import timezone

from core.engines import get_registry
from monitoring.metrics import CUSTOM_VOICE
from ops import system
from synthesis.models import SynthesisJob, WorkerHeartbeat
from voices.models import Voice

Status = SynthesisJob.Status


def _seconds(value: timedelta | float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        value = value.total_seconds()
    return round(float(value), 4)


# ------------------------------------------------------------------ queue and voices


def queue_figures(*, now: datetime | None = None, owner: Any = None) -> dict[str, Any]:
    """Jobs waiting and running, and how long the oldest waiting job has waited; only
    `owner`'s jobs when given."""
    now = now or timezone.now()
    jobs = SynthesisJob.objects.active()
    if owner is not None:
        jobs = jobs.filter(owner=owner) if owner.is_authenticated else jobs.none()
    figures = jobs.aggregate(
        depth=Count("id", filter=Q(status=Status.QUEUED)),
        running=Count("id", filter=Q(status=Status.RUNNING)),
        oldest=Min("queued_at", filter=Q(status=Status.QUEUED)),
    )
    oldest: datetime | None = figures["oldest"]
    return {
        "depth": figures["depth"],
        "running": figures["running"],
        "oldest_queued_at": oldest.isoformat() if oldest else None,
        # A clock a little ahead on the web host must not make an age negative.
        "oldest_age_seconds": round(max(0.0, (now - oldest).total_seconds()), 3) if oldest else 0.0,
    }


def voice_figures(*, owner: Any = None) -> dict[str, Any]:
    """Voice counts; `active` is what `tts_active_voices` reports (ready to speak). With
    `owner`, only the voices that user can see: the built-in ones and their own."""
    voices = Voice.objects.all()
    if owner is not None:
        mine = Q(owner=owner) if owner.is_authenticated else Q(pk__in=[])
        voices = voices.filter(Q(is_builtin=True) | mine)
    figures = voices.aggregate(
        total=Count("id"),
        active=Count("id", filter=Q(status=Voice.Status.READY)),
        builtin=Count("id", filter=Q(is_builtin=True)),
        custom=Count("id", filter=Q(is_builtin=False)),
    )
    by_status = dict(voices.values_list("status").annotate(n=Count("id")).order_by())
    return {**figures, "by_status": {status: by_status.get(status, 0) for status in Voice.Status.values}}


# ------------------------------------------------------------------ engine workers


def _lease_alive_worker_ids(heartbeats: list[WorkerHeartbeat], now: datetime) -> set[str]:
    """Workers whose heartbeat is old but who hold an unexpired lease on their current job.

    The worker renews a job's lease after every chunk it generates but only heartbeats
    between jobs, so a long job would otherwise make a busy, healthy worker look dead.
    A lease it still renews is as good a sign of life as a heartbeat.
    """
    busy = {hb.worker_id: hb.current_job for hb in heartbeats if hb.current_job}
    if not busy:
        return set()
    leased = SynthesisJob.objects.live_leases(now).filter(pk__in=list(busy.values())).values_list("pk", "lease_owner")
    return {owner for pk, owner in leased if busy.get(owner) == pk}


def worker_figures(*, now: datetime | None = None) -> list[dict[str, Any]]:
    """Every engine worker that has reported, newest first, with whether it is alive:
    a heartbeat newer than WORKER_HEARTBEAT_MAX_AGE, or a lease it keeps renewing.

    In the embedded default the worker is a thread of the web process that writes the
    same heartbeat rows, so it counts like any other.
    """
    now = now or timezone.now()
    max_age = settings.WORKER_HEARTBEAT_MAX_AGE
    heartbeats = list(WorkerHeartbeat.objects.order_by("-last_seen"))
    stale = [hb for hb in heartbeats if (now - hb.last_seen).total_seconds() > max_age]
    leased = _lease_alive_worker_ids(stale, now)
    workers = []
    for hb in heartbeats:
        age = (now - hb.last_seen).total_seconds()
        workers.append(
            {
                "worker_id": hb.worker_id,
                "hostname": hb.hostname,
                "pid": hb.pid,
                "started_at": hb.started_at.isoformat(),
                "last_seen": hb.last_seen.isoformat(),
                "age_seconds": round(max(0.0, age), 3),
                "fresh": age <= max_age,
                "alive": age <= max_age or hb.worker_id in leased,
                # Whether it is busy, not which job: the job belongs to some user.
                "busy": hb.current_job is not None,
                "jobs_done": hb.jobs_done,
                "engines": [
                    {
                        "name": engine.get("name"),
                        "available": bool(engine.get("available")),
                        "loaded": bool(engine.get("loaded")),
                        "load_seconds": engine.get("load_seconds"),
                        "loaded_at": engine.get("loaded_at"),
                        "device": engine.get("device"),
                    }
                    for engine in (hb.engines or [])
                    if isinstance(engine, dict)
                ],
            }
        )
    return workers


# ------------------------------------------------------------------ engines


def engine_figures(*, workers: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Each engine as this process sees it (available here, and why not; loaded here,
    and how long that took), plus what the live engine workers report having loaded.

    A web process of a PostgreSQL + Redis deployment loads no model (the workers do),
    so `loaded` is usually false here and `workers` carries the load times.
    """

    if workers is None:
        workers = worker_figures()
    figures = []
    for status in get_registry().status():
        reports = [
            {"worker_id": worker["worker_id"], **{k: v for k, v in engine.items() if k != "name"}}
            for worker in workers
            if worker["alive"]
            for engine in worker["engines"]
            if engine["name"] == status.name
        ]
        figures.append(
            {
                "name": status.name,
                "available": status.available,
                "reason": status.reason,
                "loaded": status.loaded,
                "load_seconds": status.load_seconds,
                "loaded_at": _iso(status.loaded_at),
                "unloaded_at": _iso(status.unloaded_at),
                "idle_unload_seconds": settings.ENGINE_IDLE_UNLOAD_SECONDS or None,
                "device": status.device,
                "languages": list(status.languages),
                "clones": status.clones,
                "loaded_in_workers": sum(1 for report in reports if report["loaded"]),
                "workers": reports,
            }
        )
    return figures


# ------------------------------------------------------------------ /metrics


def _usage(rows: Any, key: str) -> dict[str, int]:
    return {str(row[key]): row["n"] for row in rows}


def request_figures(*, now: datetime | None = None) -> dict[str, Any]:
    """The `/metrics` figures: synthesis requests (jobs) by outcome, their timings, the
    last minute's rate, and usage by voice, language and engine, errors by code.

    Read from `SynthesisJob` rows, which every web process writes and every worker
    updates, so the numbers are the same whichever process answers. Jobs a user deleted
    from their history are gone from here too (Prometheus' counters keep them).
    Rates are fractions (0..1) of finished requests that were not cancelled: a
    cancellation is the caller's choice, neither a success nor a failure.
    """
    now = now or timezone.now()
    completed = Q(status=Status.COMPLETED)
    figures = SynthesisJob.objects.aggregate(
        total=Count("id"),
        completed=Count("id", filter=completed),
        failed=Count("id", filter=Q(status=Status.FAILED)),
        cancelled=Count("id", filter=Q(status=Status.CANCELLED)),
        queued=Count("id", filter=Q(status=Status.QUEUED)),
        running=Count("id", filter=Q(status=Status.RUNNING)),
        last_minute=Count("id", filter=Q(queued_at__gte=now - timedelta(minutes=1))),
        response=Avg(
            ExpressionWrapper(F("finished_at") - F("queued_at"), output_field=DurationField()),
            filter=completed & Q(finished_at__isnull=False),
        ),
        synthesis=Avg("synthesis_seconds", filter=completed),
        first_audio=Avg("time_to_first_audio", filter=completed),
        synthesis_total=Sum("synthesis_seconds", filter=completed & Q(audio_duration__gt=0)),
        audio_total=Sum("audio_duration", filter=completed & Q(audio_duration__gt=0)),
        words=Sum("word_count", filter=completed),
        characters=Sum("character_count", filter=completed),
    )
    decided = figures["completed"] + figures["failed"]
    # Users' own voice names are personal and unbounded: they count as "custom", as in
    # the Prometheus `voice` label.
    voices: dict[str, int] = {}
    for row in SynthesisJob.objects.values("voice_name", "voice_builtin").annotate(n=Count("id")).order_by():
        name = row["voice_name"] if row["voice_builtin"] else CUSTOM_VOICE
        voices[name] = voices.get(name, 0) + row["n"]
    languages = SynthesisJob.objects.values("language").annotate(n=Count("id")).order_by("language")
    engines = SynthesisJob.objects.values("engine").annotate(n=Count("id")).order_by("engine")
    errors = (
        SynthesisJob.objects.filter(status=Status.FAILED)
        .values("error_code")
        .annotate(n=Count("id"))
        .order_by("error_code")
    )
    return {
        "source": "database",
        "generated_at": now.isoformat(),
        "total_requests": figures["total"],
        "successful_requests": figures["completed"],
        "failed_requests": figures["failed"],
        "cancelled_requests": figures["cancelled"],
        "queued_requests": figures["queued"],
        "running_requests": figures["running"],
        "success_rate": round(figures["completed"] / decided, 4) if decided else None,
        "failure_rate": round(figures["failed"] / decided, 4) if decided else None,
        # Seconds, over completed requests: from queued to finished (what a caller
        # waited), producing the audio, and until the first audio chunk.
        "average_response_time": _seconds(figures["response"]),
        "average_synthesis_time": _seconds(figures["synthesis"]),
        "average_time_to_first_audio": _seconds(figures["first_audio"]),
        "realtime_factor": _seconds(figures["synthesis_total"] / figures["audio_total"])
        if figures["audio_total"]
        else None,
        "requests_per_minute": figures["last_minute"],
        "words_synthesized": figures["words"] or 0,
        "characters_synthesized": figures["characters"] or 0,
        "voice_usage": dict(sorted(voices.items())),
        "language_usage": _usage(languages, "language"),
        "engine_usage": _usage(engines, "engine"),
        "error_counts": {(row["error_code"] or "unknown"): row["n"] for row in errors},
    }


# ------------------------------------------------------------------ /api/v1/health


# What identifies a host or a process: for operators (staff) only.
_WORKER_IDENTITY = ("worker_id", "hostname", "pid")


def health_detail(*, now: datetime | None = None, viewer: Any = None) -> dict[str, Any]:
    """Everything an operator wants on one page: host (CPU, memory, disk, GPU),
    engines, voices, the queue and the engine workers.

    A `viewer` who is not staff (any API user, or anonymous) gets no figure about other
    users or the deployment's insides: voices and queue count only what they own (and
    the built-in voices), and worker ids, host names, PIDs and MEDIA_ROOT are left out.
    """

    now = now or timezone.now()
    operator = viewer is None or bool(getattr(viewer, "is_staff", False))
    owner = None if operator else viewer
    workers = worker_figures(now=now)
    engines = engine_figures(workers=workers)
    queue = queue_figures(now=now, owner=owner)
    alive = [worker for worker in workers if worker["alive"]]
    disk = system.disk_figures(settings.MEDIA_ROOT)
    if not operator:
        disk.pop("path", None)
        workers = [{k: v for k, v in worker.items() if k not in _WORKER_IDENTITY} for worker in workers]
        for engine in engines:
            engine["workers"] = [
                {k: v for k, v in report.items() if k not in _WORKER_IDENTITY} for report in engine["workers"]
            ]
    return {
        "status": "ok" if alive else "degraded",
        "version": settings.API_VERSION,
        "time": now.isoformat(),
        "system": {
            "cpu": system.cpu_figures(),
            "memory": system.memory_figures(),
            "disk": disk,
        },
        "gpu": system.gpu_figures(),
        "engines": engines,
        "voices": voice_figures(owner=owner),
        "queue": queue,
        "workers": {
            "alive": len(alive),
            "total": len(workers),
            "heartbeat_max_age_seconds": settings.WORKER_HEARTBEAT_MAX_AGE,
            "embedded": settings.EMBEDDED_WORKER,
            "items": workers,
        },
    }


def _iso(unix_time: float | None) -> str | None:
    return datetime.fromtimestamp(unix_time, tz=UTC).isoformat() if unix_time is not None else None
