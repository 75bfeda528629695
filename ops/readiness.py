"""Readiness: can this web process serve synthesis right now?

Each check touches the real dependency (a query, a cache round trip, a channel-layer
message to itself) and answers `{"ok": bool, ...}`; `readiness()` runs them all, so a
503 names every failing part at once rather than the first. Failures carry the
exception's type, not its text, because `/health/ready` is open to anyone who can reach
the port and connection errors name internal hosts; the full error goes to the log.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from core.engines import get_registry
from ops.selectors import worker_figures

logger = logging.getLogger("speaker.monitoring")

CHANNEL_TIMEOUT_SECONDS = 2.0


def _failed(check: str, exc: BaseException) -> dict[str, Any]:
    logger.warning("readiness check %s failed", check, exc_info=exc)
    return {"ok": False, "error": type(exc).__name__}


def _timed(check: str, probe: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        result = probe()
    except Exception as exc:
        result = _failed(check, exc)
    result["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def check_database() -> dict[str, Any]:
    def probe() -> dict[str, Any]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"ok": True, "vendor": connection.vendor}

    return _timed("database", probe)


def check_cache() -> dict[str, Any]:
    def probe() -> dict[str, Any]:
        key, token = f"monitoring:ready:{uuid.uuid4().hex}", uuid.uuid4().hex
        cache.set(key, token, timeout=30)
        try:
            got = cache.get(key)
        finally:
            cache.delete(key)
        if got != token:
            return {"ok": False, "error": "the value written was not read back"}
        return {"ok": True}

    return _timed("cache", probe)


def check_channel_layer() -> dict[str, Any]:
    """Send a message to a channel of our own and receive it back."""

    def probe() -> dict[str, Any]:

        layer = get_channel_layer()
        if layer is None:
            return {"ok": False, "error": "no channel layer is configured"}
        # A plain (not process-specific "!") name: receiving on it needs no per-process
        # receive loop, so it works from any event loop async_to_sync runs us on.
        channel = f"monitoring.ready.{uuid.uuid4().hex}"
        token = uuid.uuid4().hex

        async def round_trip() -> dict[str, Any]:
            await layer.send(channel, {"type": "monitoring.ready", "token": token})
            return await asyncio.wait_for(layer.receive(channel), CHANNEL_TIMEOUT_SECONDS)

        message = async_to_sync(round_trip)()
        if message.get("token") != token:
            return {"ok": False, "error": "received a different message"}
        return {"ok": True, "backend": type(layer).__name__}

    return _timed("channel_layer", probe)


def check_workers_and_engines(*, database_ok: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
    """At least one live engine worker, and an engine loaded in one of them (and
    available to this process, which validates requests against its own registry)."""

    available_here = get_registry().available_names()
    if not database_ok:
        unknown = {"ok": False, "error": "database unavailable"}
        return dict(unknown), {**unknown, "available_here": available_here}
    try:
        workers = worker_figures(now=timezone.now())
    except Exception as exc:
        failure = _failed("workers", exc)
        return failure, {**failure, "available_here": available_here}
    alive = [worker for worker in workers if worker["alive"]]
    worker_check: dict[str, Any] = {
        "ok": bool(alive),
        "alive": len(alive),
        "stale": len(workers) - len(alive),
        "heartbeat_max_age_seconds": settings.WORKER_HEARTBEAT_MAX_AGE,
        "embedded": settings.EMBEDDED_WORKER,
    }
    if not alive:
        worker_check["error"] = (
            "no engine worker has sent a heartbeat in the last "
            f"{settings.WORKER_HEARTBEAT_MAX_AGE}s" + ("" if workers else " (none has ever reported)")
        )
    loaded = sorted(
        {engine["name"] for worker in alive for engine in worker["engines"] if engine["loaded"] and engine["available"]}
    )
    engine_check: dict[str, Any] = {
        "ok": bool(loaded) and bool(available_here),
        "loaded": loaded,
        "available_here": available_here,
    }
    if not available_here:
        engine_check["error"] = "no speech engine can run with this process's settings"
    elif not loaded:
        engine_check["error"] = "no live engine worker has an engine loaded"
    return worker_check, engine_check


def readiness() -> tuple[bool, dict[str, Any]]:
    """(ready, checks) with every check's result."""
    checks: dict[str, Any] = {
        "database": check_database(),
        "cache": check_cache(),
        "channel_layer": check_channel_layer(),
    }
    started = time.perf_counter()
    checks["workers"], checks["engines"] = check_workers_and_engines(database_ok=checks["database"]["ok"])
    elapsed = round((time.perf_counter() - started) * 1000, 1)
    checks["workers"]["ms"] = checks["engines"]["ms"] = elapsed  # one query serves both
    return all(check["ok"] for check in checks.values()), checks
