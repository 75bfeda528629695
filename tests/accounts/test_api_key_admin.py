"""API keys in the Django admin, through the real admin views: an operator can revoke a
key (audited) but never un-revoke it or extend its expiry; hash, prefix, revoked_at and
expires_at are read-only, and every change is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import APIKey, User
from accounts.services import apikey_create, apikey_revoke
from monitoring.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db) -> User:
    return User.objects.create_superuser("root", "root@example.com", "root-pass-123")


@pytest.fixture
def admin_client(client, operator):  # type: ignore[no-untyped-def]
    client.force_login(operator)
    return client


def _change_url(key: APIKey) -> str:
    return f"/admin/accounts/apikey/{key.pk}/change/"


def test_the_change_form_shows_no_editable_credential_or_lifetime_field(admin_client, owner):
    key = apikey_create(user=owner, name="ci", expires_at=timezone.now() + timedelta(days=1)).api_key
    page = admin_client.get(_change_url(key)).content.decode()
    for field in ("secret_hash", "prefix", "revoked_at", "expires_at"):
        assert f'name="{field}"' not in page and f'name="{field}_0"' not in page


def test_clearing_revoked_at_does_not_revive_a_revoked_key(admin_client, owner):
    key = apikey_create(user=owner, name="ci").api_key
    apikey_revoke(api_key=key)
    revoked_at = APIKey.objects.get(pk=key.pk).revoked_at
    admin_client.post(_change_url(key), {"revoked_at_0": "", "revoked_at_1": "", "_save": "Save"})
    assert APIKey.objects.get(pk=key.pk).revoked_at == revoked_at


def test_a_posted_later_expiry_does_not_extend_a_key(admin_client, owner):
    soon = timezone.now() + timedelta(minutes=5)
    key = apikey_create(user=owner, name="ci", expires_at=soon).api_key
    admin_client.post(
        _change_url(key),
        {"expires_at_0": "2099-01-01", "expires_at_1": "00:00:00", "prefix": "hijacked", "secret_hash": "0" * 64},
    )
    after = APIKey.objects.get(pk=key.pk)
    assert after.expires_at == soon and after.prefix == key.prefix and after.secret_hash == key.secret_hash


def test_the_revoke_action_revokes_and_audits(admin_client, owner, operator):
    key = apikey_create(user=owner, name="ci").api_key
    response = admin_client.post(
        "/admin/accounts/apikey/", {"action": "revoke_keys", "_selected_action": [str(key.pk)]}
    )
    assert response.status_code == 302
    assert APIKey.objects.get(pk=key.pk).revoked_at is not None
    event = AuditEvent.objects.get(action="api_key.revoked", target_id=str(key.pk))
    assert event.user == operator


def test_deleting_a_key_in_the_admin_is_audited(admin_client, owner, operator):
    key = apikey_create(user=owner, name="ci").api_key
    response = admin_client.post(f"/admin/accounts/apikey/{key.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not APIKey.objects.filter(pk=key.pk).exists()
    event = AuditEvent.objects.get(action="admin.api_key.deleted")
    assert event.user == operator and event.target_id == str(key.pk)
