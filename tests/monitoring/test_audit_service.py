from __future__ import annotations

import json

import pytest

from monitoring.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_creating_a_key_writes_a_row_and_a_json_line(owner_api, owner, settings):
    owner_api.post(
        "/api/v1/keys", {"name": "ci"}, format="json", HTTP_X_REQUEST_ID="req-77", HTTP_USER_AGENT="pytest-agent"
    )
    event = AuditEvent.objects.filter(action="api_key.created").latest("created_at")
    assert event.user == owner and event.request_id == "req-77" and event.user_agent == "pytest-agent"
    assert event.api_key_prefix  # the calling key, not the new one
    line = json.loads(settings.AUDIT_LOG_FILE.read_text().splitlines()[-1])
    assert line["action"] == "api_key.created" and line["request_id"] == "req-77"
    assert "key" not in line["details"]


def test_revoking_a_key_is_audited(owner_api):
    created = owner_api.post("/api/v1/keys", {"name": "x"}, format="json").json()
    owner_api.delete(f"/api/v1/keys/{created['id']}")
    assert AuditEvent.objects.filter(action="api_key.revoked", target_id=str(created["id"])).exists()


def test_secret_looking_details_are_redacted(owner):
    from monitoring.services import audit_record

    event = audit_record(action="test", user=owner, details={"password": "hunter2", "name": "ok"})
    assert event.details == {"password": "[redacted]", "name": "ok"}
