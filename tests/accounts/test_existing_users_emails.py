"""accounts 0004: existing users' addresses become allauth's (unverified) EmailAddress rows."""

from __future__ import annotations

import importlib

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps

from accounts.models import User

pytestmark = pytest.mark.django_db

migration = importlib.import_module("accounts.migrations.0004_existing_emails")


def test_each_address_is_kept_once_unverified_and_sign_in_by_email_works(client):
    first = User.objects.create_user(username="first", email="Shared@Example.com", password="first-pass-123")
    second = User.objects.create_user(username="second", email="shared@example.com", password="second-pass-123")
    User.objects.create_user(username="silent", email="", password="silent-pass-123")
    migration.forwards(apps, None)
    [row] = EmailAddress.objects.all()
    assert (row.user, row.email, row.verified, row.primary) == (first, "shared@example.com", False, True)
    assert not EmailAddress.objects.filter(user=second).exists()
    client.post("/accounts/login/", {"login": "shared@example.com", "password": "first-pass-123"})
    assert client.get("/api/v1/me").json()["username"] == "first"


def test_running_it_again_adds_nothing(owner):
    migration.forwards(apps, None)
    migration.forwards(apps, None)
    assert EmailAddress.objects.filter(user=owner).count() == 1
