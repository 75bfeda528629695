"""Scrape-time refresh of the state gauges in `monitoring.metrics`.

Gauges are set from their source of truth just before each scrape, never on a timer
and never with inc()/dec(): the database (queue depth and age, active voices), this
host (CPU, memory, GPUs via NVML) and this process's engine registry (model load times).
The web's `/prometheus` view calls `refresh_gauges()`; the engine worker's metrics port
calls `refresh_gauges_in_own_thread()` through the refresher `monitoring.apps` installs.

One failing source (the database down, NVML gone) leaves its gauges at their last
value and is logged; the others are still refreshed and the scrape still answers, so
Prometheus keeps the process metrics that tell an operator what went wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import connections

from core.engines import get_registry
from monitoring import metrics
from ops import system
from ops.selectors import queue_figures, voice_figures
from webhooks.selectors import endpoints_failing_count

logger = logging.getLogger("speaker.monitoring")


def refresh_database_gauges() -> None:

    queue = queue_figures()
    metrics.QUEUE_DEPTH.set(queue["depth"])
    metrics.QUEUE_OLDEST_AGE.set(queue["oldest_age_seconds"])
    metrics.ACTIVE_VOICES.set(voice_figures()["active"])
    metrics.WEBHOOK_ENDPOINTS_FAILING.set(endpoints_failing_count())


def refresh_host_gauges() -> None:
    metrics.SYSTEM_CPU.set(system.cpu_figures()["percent"])
    metrics.SYSTEM_MEMORY.set(system.memory_figures()["used_bytes"])


def refresh_gpu_gauges() -> None:
    """GPU memory per device; nothing at all on a host without a GPU (no series is
    better than a zero, which would read as an empty GPU)."""
    for device in system.gpu_figures()["devices"]:
        if device["memory_used_bytes"] is not None and device["memory_total_bytes"] is not None:
            metrics.set_gpu_memory(
                gpu=str(device["index"]),
                used_bytes=device["memory_used_bytes"],
                total_bytes=device["memory_total_bytes"],
            )


def refresh_engine_gauges() -> None:
    """Each engine's model in this process (workers; the embedded web): its load time,
    whether it is loaded now (idle unloading) and when it was last loaded."""

    for status in get_registry().status():
        if status.loaded and status.load_seconds is not None:
            metrics.MODEL_LOAD.labels(engine=status.name).set(status.load_seconds)
        if status.available:
            metrics.MODEL_LOADED.labels(engine=status.name).set(1 if status.loaded else 0)
        if status.loaded_at is not None:
            metrics.MODEL_LAST_LOAD.labels(engine=status.name).set(status.loaded_at)


_REFRESHERS: tuple[Callable[[], None], ...] = (
    refresh_database_gauges,
    refresh_host_gauges,
    refresh_gpu_gauges,
    refresh_engine_gauges,
)


def refresh_gauges() -> None:
    for refresh in _REFRESHERS:
        try:
            refresh()
        except Exception:
            logger.warning("%s failed; its gauges keep their last value", refresh.__name__, exc_info=True)


def refresh_gauges_in_own_thread() -> None:
    """For the worker's metrics port: prometheus_client serves each scrape on a new
    thread, and Django's connections are per thread, so close this thread's connection
    rather than leave one behind per scrape."""

    try:
        refresh_gauges()
    finally:
        connections.close_all()
