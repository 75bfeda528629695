"""apikey_create: a key can never mint a key that outlives it. The child's expiry is
capped at the creating key's, through the service and through POST /api/v1/keys."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import APIKey
from accounts.services import apikey_create

pytestmark = pytest.mark.django_db


def _client_for(plaintext: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def test_a_child_of_an_expiring_key_without_an_expiry_gets_the_parents(owner):
    parent = apikey_create(user=owner, name="short", expires_at=timezone.now() + timedelta(seconds=90)).api_key
    child = apikey_create(user=owner, name="child", creator_key=parent).api_key
    assert child.expires_at == parent.expires_at


def test_a_child_asking_for_a_later_expiry_is_capped_at_the_parents(owner):
    parent = apikey_create(user=owner, name="short", expires_at=timezone.now() + timedelta(hours=1)).api_key
    child = apikey_create(
        user=owner, name="child", creator_key=parent, expires_at=timezone.now() + timedelta(days=365)
    ).api_key
    assert child.expires_at == parent.expires_at


def test_a_child_may_expire_sooner_than_its_parent(owner):
    parent = apikey_create(user=owner, name="short", expires_at=timezone.now() + timedelta(hours=1)).api_key
    sooner = timezone.now() + timedelta(minutes=5)
    child = apikey_create(user=owner, name="child", creator_key=parent, expires_at=sooner).api_key
    assert child.expires_at == sooner


def test_a_key_without_expiry_may_mint_keys_without_expiry(owner):
    parent = apikey_create(user=owner, name="forever").api_key
    assert apikey_create(user=owner, name="child", creator_key=parent).api_key.expires_at is None


def test_through_the_api_a_key_expiring_in_90_seconds_cannot_mint_an_unlimited_one(owner):
    parent = apikey_create(user=owner, name="short", expires_at=timezone.now() + timedelta(seconds=90))
    created = _client_for(parent.plaintext).post("/api/v1/keys", {"name": "escape"}, format="json")
    assert created.status_code == 201
    child = APIKey.objects.get(prefix=created.json()["prefix"])
    assert child.expires_at == parent.api_key.expires_at
    assert created.json()["expires_at"] is not None


def test_the_dashboard_session_may_still_choose_any_expiry(client, owner):
    client.force_login(owner)
    later = (timezone.now() + timedelta(days=365)).isoformat()
    created = client.post("/api/v1/keys", {"name": "long", "expires_at": later}, content_type="application/json")
    assert created.status_code == 201, created.content
    assert APIKey.objects.get(prefix=created.json()["prefix"]).expires_at > timezone.now() + timedelta(days=300)
