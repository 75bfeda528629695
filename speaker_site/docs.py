"""The API docs pages, served from this host alone.

drf-spectacular's Redoc page links Google Fonts, and the Redoc bundle shows Redocly's
logo from cdn.redoc.ly: both broke the page's Content-Security-Policy and reached the
internet. Here the page is our own template (system fonts, our favicon), and the bundle
from drf-spectacular-sidecar is served with the logo pointed at our own image."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import drf_spectacular_sidecar
from django.http import FileResponse, HttpRequest, HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe
from drf_spectacular.views import SpectacularRedocView

REDOC_BUNDLE = (
    Path(drf_spectacular_sidecar.__file__).parent / "static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
)
REDOCLY_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
FAVICON = Path(__file__).resolve().parent.parent / "static/img/speaker.svg"


class RedocView(SpectacularRedocView):
    template_name = "docs/redoc.html"

    def _redoc_standalone(self) -> str:  # type: ignore[override]
        return reverse("redoc-bundle")


@lru_cache(maxsize=1)
def _bundle() -> bytes:
    return REDOC_BUNDLE.read_text(encoding="utf-8").replace(REDOCLY_LOGO, static("img/speaker.svg")).encode("utf-8")


@require_safe
@cache_control(public=True, max_age=86400)
def redoc_bundle(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_bundle(), content_type="application/javascript; charset=utf-8")


@require_safe
@cache_control(public=True, max_age=86400)
def favicon(request: HttpRequest) -> FileResponse:
    return FileResponse(open(FAVICON, "rb"), content_type="image/svg+xml")
