"""Dashboard pages for webhooks (docs/webhooks.md): the account's endpoints with a form
to add one, and one endpoint's delivery log. The pages render what webhooks.selectors
reads; every change goes through the REST API from static/js/webhooks.js, so the page
and the API share one set of rules and error messages."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from webhooks.events import WEBHOOK_EVENTS
from webhooks.selectors import deliveries_listed, endpoint_get, endpoints_listed

DELIVERIES_SHOWN = 100


@login_required
@require_GET
def webhooks(request: HttpRequest) -> HttpResponse:
    endpoints = list(endpoints_listed(user=request.user))
    return render(
        request,
        "dashboard/webhooks.html",
        {
            "section": "webhooks",
            "endpoints": endpoints,
            # Told on the page: why Speaker switched an endpoint off (410, days of failures).
            "disabled_by_us": [e for e in endpoints if not e.enabled and e.disabled_reason],
            "events": WEBHOOK_EVENTS,
            "max_endpoints": settings.WEBHOOK_MAX_ENDPOINTS,
            "require_https": settings.WEBHOOK_REQUIRE_HTTPS,
        },
    )


@login_required
@require_GET
def webhook_detail(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    endpoint = endpoint_get(user=request.user, endpoint_id=endpoint_id)
    return render(
        request,
        "dashboard/webhook_detail.html",
        {
            "section": "webhooks",
            "endpoint": endpoint,
            "deliveries": list(deliveries_listed(endpoint=endpoint)[:DELIVERIES_SHOWN]),
            "shown": DELIVERIES_SHOWN,
            "log_days": settings.WEBHOOK_LOG_DAYS,
        },
    )
