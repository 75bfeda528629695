"""/api/v1/keys: create, list, revoke; secrets shown once and never stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import APIKey
from monitoring.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_new_key_is_shown_once_in_a_recognisable_form(owner_api):
    created = owner_api.post("/api/v1/keys", {"name": "ci"}, format="json")
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith(f"spk_{created.json()['prefix']}_")
    listed = owner_api.get("/api/v1/keys").json()["results"]
    assert any(k["prefix"] == created.json()["prefix"] for k in listed)
    assert all("key" not in k and "secret_hash" not in k for k in listed)


def test_the_database_holds_no_plaintext_secret(owner_api):
    key = owner_api.post("/api/v1/keys", {"name": "ci"}, format="json").json()["key"]
    secret = key.split("_", 2)[2]
    row = APIKey.objects.get(prefix=key.split("_")[1])
    stored = " ".join(str(getattr(row, f.attname)) for f in APIKey._meta.fields)
    assert secret not in stored
    assert len(row.secret_hash) == 64


def test_a_key_authenticates_as_bearer_and_as_x_api_key(owner, owner_key, anon):
    assert anon.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {owner_key}").json()["username"] == owner.username
    assert anon.get("/api/v1/me", HTTP_X_API_KEY=owner_key).json()["username"] == owner.username


def test_a_revoked_key_gets_401(owner_api, owner_key, anon):
    key_id = owner_api.get("/api/v1/me").json()["key"]["prefix"]
    row = APIKey.objects.get(prefix=key_id)
    assert owner_api.delete(f"/api/v1/keys/{row.pk}").status_code == 204
    response = anon.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {owner_key}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_revoking_is_irreversible_and_recorded(owner_api):
    created = owner_api.post("/api/v1/keys", {"name": "temp"}, format="json").json()
    owner_api.delete(f"/api/v1/keys/{created['id']}")
    first = APIKey.objects.get(pk=created["id"]).revoked_at
    owner_api.delete(f"/api/v1/keys/{created['id']}")
    assert APIKey.objects.get(pk=created["id"]).revoked_at == first is not None


def test_an_expired_key_gets_401(owner, make_key, anon):
    key = make_key(owner, expires_at=timezone.now() + timedelta(seconds=30))
    APIKey.objects.filter(prefix=key.split("_")[1]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert anon.get("/api/v1/me", HTTP_X_API_KEY=key).status_code == 401


def test_a_key_without_the_scope_gets_403(owner, api_for):
    reader = api_for(owner, ["voices:read"])
    response = reader.get("/api/v1/keys")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert "keys:manage" in response.json()["error"]["message"]


def test_a_key_cannot_mint_a_key_with_scopes_it_lacks(owner, api_for):
    manager = api_for(owner, ["keys:manage", "voices:read"])
    response = manager.post("/api/v1/keys", {"name": "x", "scopes": ["synthesis:write"]}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["details"]["missing_scopes"] == ["synthesis:write"]
    ok = manager.post("/api/v1/keys", {"name": "x", "scopes": ["voices:read"]}, format="json")
    assert ok.status_code == 201 and ok.json()["scopes"] == ["voices:read"]


def test_an_unknown_scope_is_a_validation_error(owner_api):
    response = owner_api.post("/api/v1/keys", {"name": "x", "scopes": ["root"]}, format="json")
    assert response.status_code == 400
    assert "scopes" in response.json()["error"]["details"]


def test_an_expiry_in_the_past_is_refused_for_its_meaning_with_422(owner_api):
    past = (timezone.now() - timedelta(days=1)).isoformat()
    response = owner_api.post("/api/v1/keys", {"name": "x", "expires_at": past}, format="json")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unprocessable"
    assert "expires_at" in response.json()["error"]["details"]


def test_it_rejects_revoking_another_users_key_with_404(owner_api, outsider, make_key):
    make_key(outsider)
    theirs = APIKey.objects.get(user=outsider)
    assert owner_api.delete(f"/api/v1/keys/{theirs.pk}").status_code == 404
    assert APIKey.objects.get(pk=theirs.pk).revoked_at is None


def test_keys_listing_shows_only_own_keys(owner_api, outsider, make_key):
    make_key(outsider, name="theirs")
    names = [k["name"] for k in owner_api.get("/api/v1/keys").json()["results"]]
    assert "theirs" not in names


def test_last_used_at_is_recorded(owner_api):
    me = owner_api.get("/api/v1/me").json()
    assert APIKey.objects.get(prefix=me["key"]["prefix"]).last_used_at is not None


def test_anonymous_callers_get_401_on_keys(anon):
    response = anon.get("/api/v1/keys")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_revoked_key_is_taken_off_the_list_by_a_second_delete_and_stays_revoked(owner_api):
    created = owner_api.post("/api/v1/keys", {"name": "old laptop"}, format="json").json()
    owner_api.delete(f"/api/v1/keys/{created['id']}")
    listed = [key["id"] for key in owner_api.get("/api/v1/keys").json()["results"]]
    assert created["id"] in listed, "a revoked key stays listed until its owner removes it"

    assert owner_api.delete(f"/api/v1/keys/{created['id']}").status_code == 204
    listed = [key["id"] for key in owner_api.get("/api/v1/keys").json()["results"]]
    assert created["id"] not in listed
    key = APIKey.objects.get(pk=created["id"])
    assert key.revoked_at is not None and key.removed_at is not None
    actions = list(AuditEvent.objects.filter(target_id=str(key.pk)).values_list("action", flat=True))
    assert sorted(actions) == ["api_key.created", "api_key.removed", "api_key.revoked"]


def test_an_outsider_cannot_take_anothers_key_off_the_list(owner_api, outsider_api):
    created = owner_api.post("/api/v1/keys", {"name": "mine"}, format="json").json()
    owner_api.delete(f"/api/v1/keys/{created['id']}")
    assert outsider_api.delete(f"/api/v1/keys/{created['id']}").status_code == 404
    assert APIKey.objects.get(pk=created["id"]).removed_at is None
