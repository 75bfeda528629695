"""Health, metrics and the audit log.

Endpoints (ops/urls.py, ops/api_urls.py):
    /health          liveness (views.health): no I/O at all
    /health/ready    readiness (readiness.py): database, cache, channel layer, a live
                     engine worker with a loaded engine; 503 names what fails
    /api/v1/health   detail (api.py -> selectors.health_detail, system.py): host, GPU,
                     engines, voices, queue, workers
    /metrics         request figures as JSON (selectors.request_figures), from the database
    /prometheus      Prometheus exposition (metrics.py, gauges refreshed by collectors.py)

/metrics and /prometheus are guarded by access.py (METRICS_TOKEN, METRICS_ALLOWED_IPS).
/health, /health/ready and /prometheus are served by middleware.ProbeMiddleware ahead of
the ALLOWED_HOSTS check. The multi-process design of the Prometheus metrics is described
in metrics.py.
"""
