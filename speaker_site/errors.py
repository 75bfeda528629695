"""Speaker's own error pages (404, 403, 400, 500) in the dashboard's look, whatever DEBUG
says: Django's debug pages list the URL patterns and show tracebacks to whoever asks,
and the CSP leaves them unstyled anyway.

The handlers answer every HTML page; API paths get their family's JSON error body from
the API error middleware (`core.middleware`), which converts whatever HTML error
response reaches it. `ErrorPagesMiddleware` puts these pages in place of the debug 404
when DEBUG is on; a 500 keeps Django's traceback then, since that is what a developer
turns DEBUG on for (`make run` says how: DEBUG=true make run)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template import loader

PAGES: dict[int, tuple[str, str]] = {
    400: ("Bad request", "The server could not understand this request. Check the address and try again."),
    403: ("Not allowed", "You do not have permission to open this page. Log in with an account that may."),
    404: ("Page not found", "There is no page at this address. It may have moved, or the link may be mistyped."),
    500: (
        "Something went wrong",
        "The server ran into an error and could not finish this request. Try again in a moment; if it keeps "
        "happening, tell the administrator.",
    ),
}


def error_page(status: int, request: HttpRequest | None = None) -> HttpResponse:
    """The page for `status`. Without a request (400, 500) the page is rendered from the
    template alone: a broken request, session or database cannot break it too."""
    title, message = PAGES[status]
    content = loader.render_to_string(
        "errors/page.html", {"status": status, "title": title, "message": message}, request=request
    )
    response = HttpResponse(content, status=status, content_type="text/html; charset=utf-8")
    response.speaker_error_page = True  # type: ignore[attr-defined]
    return response


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(404, request)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(403, request)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(400)


def server_error(request: HttpRequest) -> HttpResponse:
    return error_page(500)


class ErrorPagesMiddleware:
    """With DEBUG on, Django answers a missing page with its debug 404 (every URL pattern
    listed) instead of `handler404`: this puts Speaker's 404 page in its place. Sits
    inside the CSP middleware (the page gets the policy) and outside the API error
    middleware (API paths are JSON by then and left alone)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and not getattr(response, "speaker_error_page", False)
            and response.get("Content-Type", "").startswith("text/html")
        ):
            return error_page(404, request)
        return response
