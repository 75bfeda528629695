from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_a_cors_preflight_from_an_allowed_origin_is_answered(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    response = client.options(
        "/api/v1/me",
        HTTP_ORIGIN="https://app.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,x-api-key",
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "x-api-key" in response["Access-Control-Allow-Headers"]


def test_a_cors_preflight_from_another_origin_gets_no_allow_header(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    response = client.options(
        "/api/v1/me", HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET"
    )
    assert "Access-Control-Allow-Origin" not in response


def test_html_pages_carry_security_headers(client):
    response = client.get("/accounts/login/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]


def test_every_response_has_a_request_id_and_echoes_a_given_one(client, owner_api):
    assert len(client.get("/health")["X-Request-ID"]) == 32
    assert owner_api.get("/api/v1/me", HTTP_X_REQUEST_ID="trace-abc-123")["X-Request-ID"] == "trace-abc-123"
    assert owner_api.get("/api/v1/me", HTTP_X_REQUEST_ID="bad id\n<script>")["X-Request-ID"] != "bad id\n<script>"
