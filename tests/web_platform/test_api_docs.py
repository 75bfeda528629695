from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_describes_both_auth_schemes_and_the_error_body(client):
    schema = client.get("/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    schemes = schema["components"]["securitySchemes"]
    assert schemes["ApiKeyBearer"]["scheme"] == "bearer"
    assert schemes["ApiKeyHeader"]["in"] == "header" and schemes["ApiKeyHeader"]["name"] == "X-API-Key"
    assert "ErrorBody" in schema["components"]["schemas"]
    assert "/api/v1/keys" in schema["paths"] and "/api/v1/me" in schema["paths"]


@pytest.mark.parametrize(
    "page, local_asset",
    [("/docs", "/static/drf_spectacular_sidecar/"), ("/redoc", '<script src="/redoc/redoc.standalone.js">')],
)
def test_the_docs_pages_load_their_assets_locally(client, page, local_asset):
    html = client.get(page).content.decode()
    assert local_asset in html
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html


def test_the_schema_generates_without_warnings_and_lists_every_endpoint(client):
    from io import StringIO

    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", stdout=StringIO(), stderr=StringIO())
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/synthesis",
        "/api/v1/synthesis/stream",
        "/api/v1/synthesis/bulk-delete",
        "/api/v1/usage",
        "/api/v1/voices",
        "/api/v1/voices/{voice_id}/preview",
        "/api/v1/languages",
        "/api/v1/health",
        "/api/v1/keys",
        "/v1/audio/speech",
    ):
        assert path in paths, path


def test_redoc_page_links_no_web_fonts_and_its_bundle_no_cdn_logo(client):
    html = client.get("/redoc").content.decode()
    assert "fonts.googleapis" not in html and "fonts.gstatic" not in html
    assert 'rel="icon"' in html
    bundle = client.get("/redoc/redoc.standalone.js")
    assert bundle.status_code == 200 and bundle["Content-Type"].startswith("application/javascript")
    assert b"cdn.redoc.ly" not in bundle.content


def test_the_docs_pages_let_redoc_start_its_search_worker(client):
    assert "worker-src 'self' blob:" in client.get("/redoc")["Content-Security-Policy"]


def test_a_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
