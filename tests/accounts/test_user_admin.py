"""Users and their quotas in the Django admin, through the real admin views: every
change an operator makes is written to the audit log with the old and new values (never
a password)."""

from __future__ import annotations

import pytest

from accounts.models import User
from monitoring.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db) -> User:
    return User.objects.create_superuser("root", "root@example.com", "root-pass-123")


@pytest.fixture
def admin_client(client, operator):  # type: ignore[no-untyped-def]
    client.force_login(operator)
    return client


def _form(user: User, **changes: object) -> dict[str, object]:
    """The change form as the admin page posts it, with `changes` applied."""
    data: dict[str, object] = {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": "on" if user.is_active else "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "monthly_character_quota": user.monthly_character_quota or "",
        "max_active_jobs": user.max_active_jobs or "",
        "_save": "Save",
    }
    data.update(changes)
    if not data["is_active"]:
        del data["is_active"]  # an unticked checkbox is not posted
    return data


def test_changing_a_users_quota_is_audited_with_old_and_new_values(admin_client, owner, operator):
    response = admin_client.post(
        f"/admin/accounts/user/{owner.pk}/change/", _form(owner, monthly_character_quota=500, max_active_jobs=2)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    owner.refresh_from_db()
    assert (owner.monthly_character_quota, owner.max_active_jobs) == (500, 2)
    event = AuditEvent.objects.get(action="admin.user.changed", target_id=str(owner.pk))
    assert event.user == operator and event.target_type == "user"
    assert event.details["fields"]["monthly_character_quota"] == {"old": None, "new": 500}
    assert event.details["fields"]["max_active_jobs"] == {"old": None, "new": 2}


def test_deactivating_a_user_is_audited(admin_client, owner):
    response = admin_client.post(f"/admin/accounts/user/{owner.pk}/change/", _form(owner, is_active=""))
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="admin.user.changed", target_id=str(owner.pk))
    assert event.details["fields"]["is_active"] == {"old": True, "new": False}


def test_a_password_change_in_the_admin_is_audited_without_the_password(admin_client, owner):
    response = admin_client.post(
        f"/admin/accounts/user/{owner.pk}/password/",
        {"password1": "n3w-Secret-pass!", "password2": "n3w-Secret-pass!", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = AuditEvent.objects.get(action="admin.user.changed", target_id=str(owner.pk))
    assert "n3w-Secret-pass!" not in str(event.details)


def test_adding_and_deleting_a_user_are_audited(admin_client):
    added = admin_client.post(
        "/admin/accounts/user/add/",
        {
            "username": "newbie",
            "password1": "Newbie-pass-123!",
            "password2": "Newbie-pass-123!",
            "usable_password": "true",
        },
    )
    assert added.status_code == 302, added.content.decode()[:2000]
    newbie = User.objects.get(username="newbie")
    created = AuditEvent.objects.get(action="admin.user.created", target_id=str(newbie.pk))
    assert "Newbie-pass-123!" not in str(created.details)
    admin_client.post(f"/admin/accounts/user/{newbie.pk}/delete/", {"post": "yes"})
    assert AuditEvent.objects.filter(action="admin.user.deleted", target_id=str(newbie.pk)).exists()
