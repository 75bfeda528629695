"""Request rate limiting for the API with django-ratelimit.

`RATE_LIMIT_REQUESTS` per `RATE_LIMIT_WINDOW` seconds, counted per account (every API
key of a user and their dashboard session share one budget: minting more keys buys no
more requests), and per client IP for anonymous callers, on the configured cache (Redis in production, so the
count is shared by every process). It runs as middleware, before DRF's authentication and
permission checks, so that floods of unauthenticated or failing requests are limited too.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django_ratelimit.core import get_usage

from accounts.authentication import api_key_for_request
from core.api_families import family_for
from core.http import client_ip


def rate_limit_key(group: str, request: HttpRequest) -> str:
    api_key = api_key_for_request(request)
    if api_key is not None:
        return f"user:{api_key.user_id}"  # the account's budget, whichever of its keys
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_ip(request)}"


def _rate() -> str:
    return f"{settings.RATE_LIMIT_REQUESTS}/{settings.RATE_LIMIT_WINDOW}s"


class RateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        family = family_for(request)  # every API family's requests, none of the pages'
        if family is None or request.method == "OPTIONS":
            return self.get_response(request)
        usage = get_usage(request, group="api", key=rate_limit_key, rate=_rate(), increment=True)
        if usage is None:  # rate limiting disabled (RATELIMIT_ENABLE=False)
            return self.get_response(request)
        remaining = max(0, usage["limit"] - usage["count"])
        if usage["should_limit"]:
            retry_after = max(1, int(usage["time_left"]))
            response = family.error(
                429,
                code="rate_limited",
                message=f"Rate limit of {usage['limit']} requests per {settings.RATE_LIMIT_WINDOW}s exceeded; "
                f"retry in {retry_after} s.",
                details={
                    "limit": usage["limit"],
                    "window_seconds": settings.RATE_LIMIT_WINDOW,
                    "retry_after": retry_after,
                },
                headers={"Retry-After": str(retry_after)},
            )
        else:
            response = self.get_response(request)
        response["X-RateLimit-Limit"] = str(usage["limit"])
        response["X-RateLimit-Remaining"] = str(remaining)
        return response


def rate_limit_spend(*, user_id: int) -> int | None:
    """Count one request against the account's budget outside HTTP (a generation asked
    for over a websocket, by a protocol adapter): the same counter the middleware
    keeps for the account's keys. Returns the seconds to wait when it is spent, else None."""
    request = HttpRequest()
    request.method = "POST"
    usage = get_usage(request, group="api", key=lambda group, request: f"user:{user_id}", rate=_rate(), increment=True)
    if usage is None or not usage["should_limit"]:
        return None
    return max(1, int(usage["time_left"]))
