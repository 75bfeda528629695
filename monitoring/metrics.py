"""Prometheus metrics: the one place where Speaker's `tts_*` series are declared.

The names here are a public contract: the Grafana dashboard and the alert rules in
`deploy/` query them, and `tests/deploy/` checks that every name those queries use is in
`EXPORTED_METRIC_NAMES`. Rename one and the dashboard goes blank, so don't.

This module imports only prometheus_client and the standard library, so that the engine
worker, the web process and the deploy tests can all import it without Django.

Multi-process design
--------------------
* Web: `/prometheus` renders `registry_for_scrape()`. When `PROMETHEUS_MULTIPROC_DIR` is
  set (containers set it), every process in the container writes its samples to files
  there and `MultiProcessCollector` adds them up at scrape time, so one scrape sees all
  web processes of that container/pod. The directory must be empty when the first
  process starts (`deploy/docker-entrypoint.sh` wipes it) and must be set before
  prometheus_client is first imported.
* Engine workers: each worker process serves its own registry on `WORKER_METRICS_PORT`
  (9101) via `serve_worker_metrics()`, and Prometheus scrapes every worker directly.
  Prometheus' `instance` label tells the workers (and their GPUs) apart.

State gauges are refreshed at scrape time, not on a timer: the web's `/prometheus` view
calls `ops.collectors.refresh_gauges()` before rendering, and the worker's port
runs the refresher that `monitoring.apps` installs with `set_scrape_refresher()` (this
module stays free of Django). Both the web and every worker therefore expose the
database gauges (queue depth and age, active voices), read from the one database at
scrape time; the dashboards and alerts read them with `max()`, so the copies agree.
System, GPU and model-load gauges describe the process's own host and models, which is
why the worker's port is where GPU hosts report them.

Gauges are only ever `set()` from a source of truth (the database, psutil, NVML), never
`inc()`/`dec()`: in multiprocess mode the "mostrecent" modes forbid inc/dec, and a value
read from the source cannot drift when a process dies half-way.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from typing import Final

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    multiprocess,
    start_http_server,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

logger = logging.getLogger("speaker.metrics")

__all__ = [
    "CHAR_RANGES",
    "CUSTOM_VOICE",
    "EXPORTED_METRIC_NAMES",
    "HISTOGRAM_NAMES",
    "MODES",
    "STATUSES",
    "WEBHOOK_OUTCOMES",
    "WORD_RANGES",
    "char_range",
    "observe_generation",
    "record_error",
    "registry_for_scrape",
    "render_latest",
    "serve_worker_metrics",
    "set_gpu_memory",
    "set_scrape_refresher",
    "voice_label",
    "webhook_observe",
    "word_range",
]

# --- label values ---------------------------------------------------------------------
# Upper bounds (inclusive) and their labels. The last label catches everything above.
_WORD_BOUNDS: Final = ((10, "1-10"), (25, "11-25"), (50, "26-50"), (100, "51-100"), (200, "101-200"))
_WORD_OVER: Final = "200+"
_CHAR_BOUNDS: Final = ((50, "1-50"), (200, "51-200"), (500, "201-500"), (1000, "501-1000"), (2000, "1001-2000"))
_CHAR_OVER: Final = "2000+"

WORD_RANGES: Final[tuple[str, ...]] = tuple(label for _, label in _WORD_BOUNDS) + (_WORD_OVER,)
CHAR_RANGES: Final[tuple[str, ...]] = tuple(label for _, label in _CHAR_BOUNDS) + (_CHAR_OVER,)

# Label values that callers choose from a closed set: anything else is a programming
# error, and letting it through would quietly add series nobody's dashboard reads.
STATUSES: Final[tuple[str, ...]] = ("success", "failure", "cancelled")
MODES: Final[tuple[str, ...]] = ("stream", "job", "segment")
CUSTOM_VOICE: Final = "custom"

# --- buckets --------------------------------------------------------------------------
# Whole-request latency: from a short streamed sentence on a GPU (~0.1 s) to a 2000-word
# job on CPU (minutes). The default prometheus buckets stop at 10 s, far too short.
_DURATION_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)
# Time to first audio is what a streaming listener waits for; the interesting part is
# under 1-2 s.
_TTFA_BUCKETS: Final = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0)
# Real-time factor = processing seconds / seconds of audio produced. Piper on CPU is
# ~0.05, XTTS on a GPU ~0.2-0.5, XTTS on CPU often > 1 (slower than real time).
_RTF_BUCKETS: Final = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)

# --- requests -------------------------------------------------------------------------
# prometheus_client appends `_total` to counter names: these are exposed as
# `tts_requests_total` and `tts_errors_total`.
REQUESTS = Counter(
    "tts_requests",
    "Synthesis requests finished, by outcome.",
    ["endpoint", "engine", "voice", "language", "status"],
)
REQUEST_DURATION = Histogram(
    "tts_request_duration_seconds",
    "Seconds to produce the audio of a successful synthesis request (jobs: processing time).",
    ["endpoint", "engine"],
    buckets=_DURATION_BUCKETS,
)
WORD_COUNT_DURATION = Histogram(
    "tts_word_count_duration_seconds",
    "Seconds to synthesise successfully, by number of words in the text (emotion tags excluded).",
    ["word_range", "engine"],
    buckets=_DURATION_BUCKETS,
)
CHARACTER_COUNT_DURATION = Histogram(
    "tts_character_count_duration_seconds",
    "Seconds to synthesise successfully, by number of characters in the text.",
    ["char_range", "engine"],
    buckets=_DURATION_BUCKETS,
)
# Per-voice latency: tts_request_duration_seconds has no voice label by contract, and the
# dashboard's per-voice panel needs a distribution, not just a count.
VOICE_REQUEST_DURATION = Histogram(
    "tts_voice_request_duration_seconds",
    "Seconds to synthesise successfully, by voice (built-in name or 'custom').",
    ["voice", "engine"],
    buckets=_DURATION_BUCKETS,
)
TIME_TO_FIRST_AUDIO = Histogram(
    "tts_time_to_first_audio_seconds",
    "Seconds from the start of synthesis to the first audio chunk.",
    ["engine", "mode"],
    buckets=_TTFA_BUCKETS,
)
REALTIME_FACTOR = Histogram(
    "tts_realtime_factor",
    "Processing seconds per second of audio produced (below 1 is faster than real time).",
    ["engine"],
    buckets=_RTF_BUCKETS,
)
ERRORS = Counter(
    "tts_errors",
    "Errors by type (a short, fixed code chosen by the caller, never an exception message).",
    ["type"],
)

# Webhook deliveries (webhooks.delivery): one count per attempt by how it ended, and how
# long the receiver took. Outcomes are a closed set (WEBHOOK_OUTCOMES).
WEBHOOK_OUTCOMES: Final[tuple[str, ...]] = ("success", "http_error", "gone", "timeout", "connection_error", "refused")
WEBHOOK_DELIVERIES = Counter(
    "tts_webhook_deliveries",
    "Webhook delivery attempts by outcome (success: a 2xx answer; gone: 410, which disables the endpoint).",
    ["outcome"],
)
# Every outcome's series exists from the start at 0, so a rate over it is never "no data".
for _outcome in WEBHOOK_OUTCOMES:
    WEBHOOK_DELIVERIES.labels(outcome=_outcome)
WEBHOOK_DELIVERY_DURATION = Histogram(
    "tts_webhook_delivery_duration_seconds",
    "Seconds one webhook delivery attempt took, connection to last byte read.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

# --- state gauges ---------------------------------------------------------------------
# Values read from the database or the host: every process reads the same truth, so the
# freshest reading is the right one ("livemostrecent"; "live" drops dead processes' files
# when mark_process_dead() is called for them).
ACTIVE_VOICES = Gauge(
    "tts_active_voices",
    "Voices that can be used for synthesis right now.",
    multiprocess_mode="livemostrecent",
)
QUEUE_DEPTH = Gauge(
    "tts_queue_depth",
    "Synthesis jobs waiting in the queue (status queued).",
    multiprocess_mode="livemostrecent",
)
QUEUE_OLDEST_AGE = Gauge(
    "tts_queue_oldest_age_seconds",
    "Age in seconds of the oldest queued job; 0 when the queue is empty.",
    multiprocess_mode="livemostrecent",
)
SYSTEM_MEMORY = Gauge(
    "tts_system_memory_usage_bytes",
    "Memory in use on the host/container (psutil virtual_memory().used).",
    multiprocess_mode="livemostrecent",
)
SYSTEM_CPU = Gauge(
    "tts_system_cpu_usage_percent",
    "CPU utilisation of the host/container in percent (psutil cpu_percent()).",
    multiprocess_mode="livemostrecent",
)
# Each process that loads a model records its own load time; the slowest one is what an
# operator waits for after a restart.
MODEL_LOAD = Gauge(
    "tts_model_load_seconds",
    "Seconds the engine's model took to load in this process.",
    ["engine"],
    multiprocess_mode="livemax",
)
# Idle unloading (ENGINE_IDLE_UNLOAD_SECONDS): whether each engine's model is loaded in
# this process now, and when it was last loaded.
MODEL_LOADED = Gauge(
    "tts_model_loaded",
    "1 while the engine's model is loaded in this process, 0 once unloaded (idle unloading).",
    ["engine"],
    multiprocess_mode="livemostrecent",
)
MODEL_LAST_LOAD = Gauge(
    "tts_model_last_load_timestamp_seconds",
    "Unix time the engine's model was last loaded in this process.",
    ["engine"],
    multiprocess_mode="livemax",
)
# NVML reports per-device figures, the same whichever process asks.
GPU_MEMORY_USED = Gauge(
    "tts_gpu_memory_used_bytes",
    "GPU memory in use on the device (NVML), by GPU index.",
    ["gpu"],
    multiprocess_mode="livemostrecent",
)
WEBHOOK_ENDPOINTS_FAILING = Gauge(
    "tts_webhook_endpoints_failing",
    "Enabled webhook endpoints whose latest deliveries failed (disabled after WEBHOOK_DISABLE_AFTER_SECONDS).",
    multiprocess_mode="livemostrecent",
)
GPU_MEMORY_TOTAL = Gauge(
    "tts_gpu_memory_total_bytes",
    "Total GPU memory of the device (NVML), by GPU index.",
    ["gpu"],
    multiprocess_mode="livemax",
)

# Every metric name as it appears in the exposition (counters with `_total`; histograms
# by base name: their series add `_bucket`, `_sum`, `_count`).
EXPORTED_METRIC_NAMES: Final[tuple[str, ...]] = (
    "tts_requests_total",
    "tts_request_duration_seconds",
    "tts_word_count_duration_seconds",
    "tts_character_count_duration_seconds",
    "tts_voice_request_duration_seconds",
    "tts_active_voices",
    "tts_system_memory_usage_bytes",
    "tts_system_cpu_usage_percent",
    "tts_errors_total",
    "tts_queue_depth",
    "tts_queue_oldest_age_seconds",
    "tts_time_to_first_audio_seconds",
    "tts_realtime_factor",
    "tts_model_load_seconds",
    "tts_model_loaded",
    "tts_model_last_load_timestamp_seconds",
    "tts_gpu_memory_used_bytes",
    "tts_gpu_memory_total_bytes",
    "tts_webhook_deliveries_total",
    "tts_webhook_delivery_duration_seconds",
    "tts_webhook_endpoints_failing",
)

HISTOGRAM_NAMES: Final[frozenset[str]] = frozenset(
    {
        "tts_request_duration_seconds",
        "tts_word_count_duration_seconds",
        "tts_character_count_duration_seconds",
        "tts_voice_request_duration_seconds",
        "tts_time_to_first_audio_seconds",
        "tts_realtime_factor",
        "tts_webhook_delivery_duration_seconds",
    }
)


# --- helpers --------------------------------------------------------------------------
def _range_label(n: int, bounds: tuple[tuple[int, str], ...], over: str) -> str:
    # Zero or negative counts can't be synthesised; fold them into the first bucket
    # rather than raise, so that a metrics call never fails a request.
    for upper, label in bounds:
        if n <= upper:
            return label
    return over


def word_range(n: int) -> str:
    """Label for a text of `n` words: 1-10, 11-25, 26-50, 51-100, 101-200 or 200+."""
    return _range_label(n, _WORD_BOUNDS, _WORD_OVER)


def char_range(n: int) -> str:
    """Label for a text of `n` characters: 1-50, 51-200, 201-500, 501-1000, 1001-2000 or 2000+."""
    return _range_label(n, _CHAR_BOUNDS, _CHAR_OVER)


def voice_label(voice_name: str, builtin: bool) -> str:
    """The `voice` label value: built-in voices by name, users' voices all as "custom".

    Users' voice names are unbounded (and personal), so they never become label values.
    """
    return voice_name if builtin else CUSTOM_VOICE


def observe_generation(
    *,
    endpoint: str,
    engine: str,
    voice: str,
    language: str,
    words: int,
    characters: int,
    seconds: float,
    audio_seconds: float | None,
    first_audio_seconds: float | None,
    mode: str,
    status: str,
) -> None:
    """Record one finished synthesis in every series it belongs to.

    `voice` must already be a label value from `voice_label()`. `seconds` is the time to
    produce the audio (for jobs: from claim to finished file, not queue wait). Latency
    series are recorded only for successes: a request that fails fast would otherwise
    make latency look better. The request counter counts every outcome.
    """
    if status not in STATUSES:
        raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    language = language.lower()

    REQUESTS.labels(endpoint=endpoint, engine=engine, voice=voice, language=language, status=status).inc()
    if status != "success":
        return

    REQUEST_DURATION.labels(endpoint=endpoint, engine=engine).observe(seconds)
    WORD_COUNT_DURATION.labels(word_range=word_range(words), engine=engine).observe(seconds)
    CHARACTER_COUNT_DURATION.labels(char_range=char_range(characters), engine=engine).observe(seconds)
    VOICE_REQUEST_DURATION.labels(voice=voice, engine=engine).observe(seconds)
    if first_audio_seconds is not None:
        TIME_TO_FIRST_AUDIO.labels(engine=engine, mode=mode).observe(first_audio_seconds)
    if audio_seconds:  # None or 0: no audio, no meaningful ratio
        REALTIME_FACTOR.labels(engine=engine).observe(seconds / audio_seconds)


def webhook_observe(*, outcome: str, seconds: float) -> None:
    if outcome not in WEBHOOK_OUTCOMES:
        raise ValueError(f"unknown webhook outcome {outcome!r}")
    WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()
    WEBHOOK_DELIVERY_DURATION.observe(seconds)


def record_error(type_: str) -> None:
    """Count one error of `type_` (a short fixed code such as "engine", "timeout", "validation")."""
    ERRORS.labels(type=type_).inc()


def set_gpu_memory(*, gpu: str, used_bytes: int, total_bytes: int) -> None:
    """Record one GPU's memory figures (both, so the "near full" alert can divide them)."""
    GPU_MEMORY_USED.labels(gpu=gpu).set(used_bytes)
    GPU_MEMORY_TOTAL.labels(gpu=gpu).set(total_bytes)


def _multiproc_dir() -> str | None:
    # prometheus_client still honours the old lower-case name; so do we.
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir")


def registry_for_scrape() -> CollectorRegistry:
    """The registry a scrape should render.

    In multiprocess mode a fresh registry with a MultiProcessCollector (the documented
    pattern: the collector must not be registered on the default REGISTRY, whose
    in-process values would then be counted twice); otherwise the default REGISTRY, which
    also holds django-prometheus' and the process collectors' metrics.
    """
    if _multiproc_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def render_latest(accept: str = "") -> tuple[bytes, str]:
    """The exposition of `registry_for_scrape()` and its content type.

    With no `accept` (or one asking for plain text) this is the classic text format
    0.0.4, which every Prometheus version parses; pass the request's Accept header to let
    a scraper negotiate OpenMetrics, as prometheus_client's own HTTP server does.
    """
    encoder, content_type = choose_encoder(accept)
    return encoder(registry_for_scrape()), content_type


_scrape_refresher: Callable[[], None] | None = None


def set_scrape_refresher(refresh: Callable[[], None] | None) -> None:
    """Install the function the worker's metrics port runs before each scrape (it sets
    the state gauges from their sources). `monitoring.apps` installs Django's; None
    removes it. A refresher that raises is logged, and the scrape still answers."""
    global _scrape_refresher
    _scrape_refresher = refresh


class _RefreshThenCollect(Collector):
    """Runs the scrape refresher, then yields everything `inner` holds."""

    def __init__(self, inner: CollectorRegistry) -> None:
        self._inner = inner

    def collect(self) -> Iterable[Metric]:
        refresh = _scrape_refresher
        if refresh is not None:
            try:
                refresh()
            except Exception:
                logger.warning("refreshing the state gauges before a scrape failed", exc_info=True)
        yield from self._inner.collect()


def _refreshing_registry(inner: CollectorRegistry) -> CollectorRegistry:
    # auto_describe=False: registering must not run the refresher (and its queries) at
    # start-up. A collector without names is kept for `?name[]=` restricted scrapes too.
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_RefreshThenCollect(inner))
    return registry


_worker_server_lock = threading.Lock()
_worker_server_started = False


def serve_worker_metrics(port: int, addr: str = "0.0.0.0") -> bool:
    """Serve this process's metrics on `addr:port` in a daemon thread (engine workers).

    Idempotent: a consumer that is instantiated more than once in one process must not
    try to bind the port twice. Returns True when this call started the server. Each
    scrape first runs the refresher installed with `set_scrape_refresher()`.
    """
    global _worker_server_started
    with _worker_server_lock:
        if _worker_server_started:
            return False
        start_http_server(port, addr=addr, registry=_refreshing_registry(registry_for_scrape()))
        _worker_server_started = True
        return True
