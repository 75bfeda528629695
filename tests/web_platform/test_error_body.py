"""Every error under /api/ uses one body: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_malformed_json_is_a_400_not_a_500(owner_api):
    response = owner_api.post("/api/v1/keys", data='{"name": ', content_type="application/json")
    assert_error(response, 400, "validation_error")


def test_wrong_types_and_missing_fields_get_per_field_details(owner_api):
    error = assert_error(
        owner_api.post("/api/v1/keys", {"scopes": "voices:read"}, format="json"), 400, "validation_error"
    )
    assert "name" in error["details"] and "scopes" in error["details"]


def test_no_credentials_is_401(anon):
    assert_error(anon.get("/api/v1/me"), 401, "not_authenticated")


def test_missing_scope_is_403(owner, api_for):
    assert_error(
        api_for(owner, ["voices:read"]).post("/api/v1/keys", {"name": "x"}, format="json"), 403, "permission_denied"
    )


def test_an_unknown_api_url_is_a_json_404(owner_api):
    assert_error(owner_api.get("/api/v1/no-such-thing"), 404, "not_found")


def test_an_unknown_object_is_a_json_404(owner_api):
    assert_error(owner_api.delete("/api/v1/keys/999999"), 404, "not_found")


def test_a_wrong_method_is_405(owner_api):
    error = assert_error(owner_api.put("/api/v1/me", {}, format="json"), 405, "method_not_allowed")
    assert "PUT" in error["message"]


def test_an_unsupported_content_type_is_415(owner_api):
    response = owner_api.post("/api/v1/keys", data="<key/>", content_type="application/xml")
    assert_error(response, 415, "unsupported_media_type")


def test_a_body_over_the_limit_is_413(owner_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = owner_api.post("/api/v1/keys", data='{"name": "' + "x" * 5000 + '"}', content_type="application/json")
    assert_error(response, 413, "payload_too_large")


@pytest.mark.urls("tests.web_platform.boom_urls")
@pytest.mark.parametrize("path", ["/api/v1/test-boom", "/api/v1/test-plain-boom"])
def test_a_crash_is_a_500_without_internals(path):
    client = APIClient(raise_request_exception=False)
    error = assert_error(client.get(path), 500, "internal_error")
    assert "secret" not in str(error) and "Traceback" not in str(error)
