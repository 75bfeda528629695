"""Root URLs. One hop from a URL to its view: each app keeps its own urls module."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerView

from core.api_families import by_family
from elevenlabs_api import api as elevenlabs_api
from openai_api import api as openai_api
from speaker_site import docs, errors

urlpatterns = [
    path("", include("dashboard.urls")),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("accounts.api_urls")),
    path("api/v1/", include("voices.api_urls")),
    path("api/v1/", include("synthesis.api_urls")),
    path("api/v1/", include("productions.api_urls")),
    path("api/v1/", include("privacy.api_urls")),
    path("api/v1/", include("webhooks.api_urls")),
    path("api/v1/", include("pronunciation.api_urls")),
    path("api/v1/", include("ops.api_urls")),
    path("", include("ops.urls")),
    path("", include("elevenlabs_api.urls")),
    path("v1/", include("openai_api.urls")),
    # Shared by two families: ElevenLabs' list for callers that send its key header, else OpenAI's.
    path(
        "v1/models",
        by_family(openai_api.ModelsView.as_view(), elevenlabs=elevenlabs_api.ModelsView.as_view()),
        name="models",
    ),
    path("openapi.json", SpectacularJSONAPIView.as_view(), name="openapi-schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="openapi-schema"), name="swagger-ui"),
    path("redoc", docs.RedocView.as_view(url_name="openapi-schema"), name="redoc"),
    path("redoc/redoc.standalone.js", docs.redoc_bundle, name="redoc-bundle"),
    path("favicon.ico", docs.favicon, name="favicon"),
]

# Speaker's own error pages, whatever DEBUG says (speaker_site/errors.py).
handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
