"""Answer probes and scrapes before the rest of the middleware stack.

The kubelet's probes and Prometheus' pod discovery reach a web pod by its IP address,
so their Host header is that address, which is not in ALLOWED_HOSTS: CommonMiddleware
would answer 400 (DisallowedHost) and the pod would never become ready. These three
views build nothing from the Host header (no URL, no redirect, no cookie), which is
what the ALLOWED_HOSTS check protects, so they are served here, ahead of it. They also
skip sessions, authentication and CSRF, which they do not use, keeping probes cheap.

`/prometheus` keeps its own METRICS_TOKEN / allow-list check (it is in the view).
`/metrics` and `/api/v1/health` go through the normal stack.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from ops import views

PROBE_VIEWS: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/health": views.health,
    "/health/ready": views.health_ready,
    "/prometheus": views.prometheus,
}


class ProbeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = PROBE_VIEWS.get(request.path_info)
        if view is None:
            return self.get_response(request)
        return view(request)
