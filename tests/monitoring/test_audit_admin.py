"""The audit log in the admin is read-only."""

from __future__ import annotations

import pytest

from accounts.models import User
from monitoring.models import AuditEvent
from monitoring.services import audit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client):
    admin = User.objects.create_superuser("root", "root@example.com", "root-pass-123")
    client.force_login(admin)
    return client


def test_the_list_filters_and_searches(operator_client, owner):
    audit_record(action="api_key.created", user=owner, target_type="api_key", target_id="1")
    page = operator_client.get("/admin/monitoring/auditevent/?q=api_key&action=api_key.created")
    assert page.status_code == 200
    assert b"api_key.created" in page.content


def test_nobody_can_add_change_or_delete_events(operator_client, owner):
    event = audit_record(action="x", user=owner)
    assert operator_client.get("/admin/monitoring/auditevent/add/").status_code == 403
    detail = operator_client.get(f"/admin/monitoring/auditevent/{event.pk}/change/")
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
    assert operator_client.post(f"/admin/monitoring/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert operator_client.post(f"/admin/monitoring/auditevent/{event.pk}/change/", {"action": "y"}).status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).action == "x"
