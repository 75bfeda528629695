"""Operational endpoints outside the versioned API: liveness, readiness, the `/metrics`
JSON and the Prometheus exposition. Thin: the work is in `ops.readiness`,
`ops.selectors` and `ops.collectors`.

Error bodies (401/403/405) are the one error body of `core.errors`; the
readiness answer has the same shape whether ready (200) or not (503), so a probe, a
load balancer and a person can all read it.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.errors import json_error
from monitoring import metrics
from monitoring.access import metrics_access_denied
from ops import collectors, readiness, selectors


def _get_only(request: HttpRequest) -> JsonResponse | None:
    if request.method not in ("GET", "HEAD"):
        return json_error(405, headers={"Allow": "GET, HEAD"})
    return None


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness: answers fast and touches nothing external."""
    return JsonResponse({"status": "ok"})


@never_cache
def health_ready(request: HttpRequest) -> JsonResponse:
    """Readiness: database, cache, channel layer, a live engine worker, a loaded engine.

    200 `{"status": "ready", "failing": [], "checks": {...}}`, or 503 with
    `"status": "not_ready"` and the failing checks named in `failing`.
    """
    if (refused := _get_only(request)) is not None:
        return refused
    ready, checks = readiness.readiness()
    failing = [name for name, check in checks.items() if not check["ok"]]
    return JsonResponse(
        {"status": "ready" if ready else "not_ready", "failing": failing, "checks": checks},
        status=200 if ready else 503,
    )


@never_cache
def metrics_json(request: HttpRequest) -> JsonResponse:
    """Request counts, rates, timings and usage, from the database (all processes)."""
    if (refused := _get_only(request) or metrics_access_denied(request)) is not None:
        return refused
    return JsonResponse(selectors.request_figures())


@never_cache
def prometheus(request: HttpRequest) -> HttpResponse:
    """django-prometheus and `tts_*` metrics in the Prometheus text format (or
    OpenMetrics when the scraper asks for it), state gauges refreshed first."""
    if (refused := _get_only(request) or metrics_access_denied(request)) is not None:
        return refused
    collectors.refresh_gauges()
    body, content_type = metrics.render_latest(request.headers.get("Accept", ""))
    return HttpResponse(body, content_type=content_type)
