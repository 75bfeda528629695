"""Staff erase an account from the Django admin's user list: a confirmation page first,
then the same erasure as a person's own, audited with the staff member as its actor."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.test import Client

from accounts.models import User
from monitoring.models import AuditEvent
from tests.privacy.conftest import database_traces, media_files

CHANGELIST = "/admin/accounts/user/"


@pytest.fixture
def operator(transactional_db) -> User:
    return User.objects.create_user("stella", "stella@example.com", "staff-pass-123", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_browser(operator: User) -> Client:
    browser = Client()
    browser.force_login(operator)
    return browser


def erase_action(browser: Client, *users: User, confirm: bool) -> object:
    data = {"action": "erase_accounts", "_selected_action": [str(u.pk) for u in users]}
    if confirm:
        data["confirm_erase"] = "yes"
    return browser.post(CHANGELIST, data)


def test_staff_erase_an_account_after_a_confirmation_page(owner, operator, admin_browser, fill):
    olivias = fill(owner, name="Olivia Voice", text="Olivia whispers her plum-coloured secret.")

    page = erase_action(admin_browser, owner, confirm=False)
    assert page.status_code == 200 and b"This cannot be undone" in page.content and b"olivia" in page.content
    assert User.objects.filter(pk=owner.pk).exists()  # nothing yet

    done = erase_action(admin_browser, owner, confirm=True)

    assert done.status_code == 302
    assert database_traces(user_id=owner.pk, markers=olivias.all_markers()) == []
    assert media_files(settings.MEDIA_ROOT) == set()
    entry = AuditEvent.objects.get(action="account.erased")
    assert (entry.user, entry.target_id, entry.details) == (operator, str(owner.pk), {"by": "staff"})


def test_staff_cannot_erase_themselves_from_the_admin(operator, admin_browser):
    response = erase_action(admin_browser, operator, confirm=True)
    assert response.status_code == 302
    assert User.objects.filter(pk=operator.pk).exists()
    assert not AuditEvent.objects.filter(action="account.erased").exists()


def test_a_staff_member_who_is_not_a_superuser_cannot_erase_a_superuser(transactional_db):
    root = User.objects.create_superuser("root", "root@example.com", "root-pass-123")
    helper = User.objects.create_user("helper", password="helper-pass-123", is_staff=True)
    helper.user_permissions.set(Permission.objects.filter(codename__in=("view_user", "change_user", "delete_user")))
    browser = Client()
    browser.force_login(helper)
    erase_action(browser, root, confirm=True)
    assert User.objects.filter(pk=root.pk).exists()
