"""Figures about the machine this process runs on: CPU, memory and disk (psutil) and the
NVIDIA GPUs (NVML, from nvidia-ml-py).

Plain functions that return plain dicts, no Django: the health view, the Prometheus
gauges and the engine worker's metrics port all read the host through here. None of them
raises: a host without a GPU, without the NVIDIA driver, or with a driver that answers
some questions and not others gets "not available" (or `None` for one figure), never an
error, because a health endpoint that fails on a CPU-only host is worse than useless.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Final

import psutil

logger = logging.getLogger("speaker.monitoring")

NOT_AVAILABLE: Final = "not available"
# After NVML fails to start (no driver, no GPU), try again at most this often: a GPU does
# not appear at run time, but a driver that was being upgraded may come back.
_NVML_RETRY_SECONDS: Final = 60.0

# psutil.cpu_percent(interval=None) measures since its previous call; the first call has
# no baseline and answers 0.0. Take that baseline at import, so the first real reading
# (a scrape, a health request) is a measurement rather than a constant.
psutil.cpu_percent(interval=None)


def cpu_figures() -> dict[str, Any]:
    """CPU use in percent since the previous reading (any caller's), core count, load."""
    try:
        load = [round(value, 2) for value in os.getloadavg()]
    except (AttributeError, OSError):  # not on every platform
        load = None
    return {
        "percent": psutil.cpu_percent(interval=None),
        "count": psutil.cpu_count(logical=True),
        "load_average": load,
    }


def memory_figures() -> dict[str, Any]:
    memory = psutil.virtual_memory()
    return {
        "total_bytes": memory.total,
        "used_bytes": memory.used,
        "available_bytes": memory.available,
        "percent": memory.percent,
    }


def disk_figures(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Usage of the filesystem holding `path` (the nearest existing folder above it: media
    folders are created on first upload, and a fresh checkout has none yet)."""
    target = Path(path)
    while not target.exists() and target != target.parent:
        target = target.parent
    try:
        usage = psutil.disk_usage(str(target))
    except OSError as exc:
        return {"path": str(path), "error": str(exc)}
    return {
        "path": str(path),
        "total_bytes": usage.total,
        "used_bytes": usage.used,
        "free_bytes": usage.free,
        "percent": usage.percent,
    }


# ------------------------------------------------------------------ NVIDIA GPUs

_nvml_lock = threading.Lock()
_nvml_ready = False
_nvml_failure: str | None = None
_nvml_failed_at = 0.0


def _nvml() -> Any | None:
    """The initialised pynvml module, or None (the reason is in `_nvml_failure`).

    NVML stays initialised for the life of the process (nvmlInit is reference-counted
    and cheap to keep; re-initialising per scrape costs tens of milliseconds).
    """
    global _nvml_ready, _nvml_failure, _nvml_failed_at
    with _nvml_lock:
        if _nvml_ready:
            import pynvml

            return pynvml
        if _nvml_failure is not None and time.monotonic() - _nvml_failed_at < _NVML_RETRY_SECONDS:
            return None
        try:
            import pynvml

            pynvml.nvmlInit()
        except ImportError:
            _nvml_failure = "nvidia-ml-py is not installed"
        except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded, OSError...
            _nvml_failure = f"NVML: {exc}" if str(exc) else f"NVML: {type(exc).__name__}"
        else:
            _nvml_ready, _nvml_failure = True, None
            return pynvml
        _nvml_failed_at = time.monotonic()
        return None


def _reset_nvml() -> None:
    """Forget NVML's state (tests that swap in a fake pynvml)."""
    global _nvml_ready, _nvml_failure, _nvml_failed_at
    with _nvml_lock:
        _nvml_ready, _nvml_failure, _nvml_failed_at = False, None, 0.0


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _ask(what: str, index: int, question: Any, *args: Any) -> Any:
    # One unsupported query (utilisation under MIG, temperature on some boards) must not
    # hide the figures that do work.
    try:
        return question(*args)
    except Exception as exc:
        logger.debug("NVML %s of GPU %d: %s", what, index, exc)
        return None


def gpu_figures() -> dict[str, Any]:
    """NVIDIA GPUs as NVML sees them from this process.

    `{"status": "available", "driver_version": ..., "devices": [{index, name, uuid,
    memory_used_bytes, memory_total_bytes, utilization_percent, temperature_celsius}]}`,
    or `{"status": "not available", "reason": ..., "devices": []}`. Never raises.
    """
    nvml = _nvml()
    if nvml is None:
        return {"status": NOT_AVAILABLE, "reason": _nvml_failure, "devices": []}
    try:
        count = nvml.nvmlDeviceGetCount()
    except Exception as exc:
        return {"status": NOT_AVAILABLE, "reason": f"NVML: {exc}", "devices": []}
    if count == 0:
        return {"status": NOT_AVAILABLE, "reason": "NVML found no GPU", "devices": []}
    devices = []
    for index in range(count):
        handle = _ask("handle", index, nvml.nvmlDeviceGetHandleByIndex, index)
        if handle is None:
            continue
        name = _ask("name", index, nvml.nvmlDeviceGetName, handle)
        uuid = _ask("uuid", index, nvml.nvmlDeviceGetUUID, handle)
        memory = _ask("memory", index, nvml.nvmlDeviceGetMemoryInfo, handle)
        rates = _ask("utilisation", index, nvml.nvmlDeviceGetUtilizationRates, handle)
        temperature = _ask("temperature", index, nvml.nvmlDeviceGetTemperature, handle, nvml.NVML_TEMPERATURE_GPU)
        devices.append(
            {
                "index": index,
                "name": _text(name) if name is not None else NOT_AVAILABLE,
                "uuid": _text(uuid) if uuid is not None else None,
                "memory_used_bytes": int(memory.used) if memory is not None else None,
                "memory_total_bytes": int(memory.total) if memory is not None else None,
                "utilization_percent": int(rates.gpu) if rates is not None else None,
                "temperature_celsius": int(temperature) if temperature is not None else None,
            }
        )
    driver = _ask("driver version", -1, nvml.nvmlSystemGetDriverVersion)
    return {
        "status": "available",
        "driver_version": _text(driver) if driver is not None else None,
        "devices": devices,
    }
