"""Sign-in pages: audited outcomes, throttled failures."""

from __future__ import annotations

import json

import pytest

from monitoring.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_successful_login_is_audited(owner, client, settings):
    response = client.post("/accounts/login/", {"login": "olivia", "password": "owner-pass-123"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="auth.login", outcome="success")
    assert event.user == owner and event.client_ip == "127.0.0.1"


def test_a_failed_login_is_audited_without_the_password(owner, client, settings):
    client.post("/accounts/login/", {"login": "olivia", "password": "wrong-guess-42"})
    event = AuditEvent.objects.get(action="auth.login", outcome="failure")
    assert event.details["username"] == "olivia"
    lines = settings.AUDIT_LOG_FILE.read_text().splitlines()
    assert json.loads(lines[-1])["outcome"] == "failure"
    assert "wrong-guess-42" not in settings.AUDIT_LOG_FILE.read_text()


def test_repeated_failures_are_throttled_even_with_the_right_password(owner, client, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        assert client.post("/accounts/login/", {"login": "olivia", "password": "nope"}).status_code == 200
    blocked = client.post("/accounts/login/", {"login": "olivia", "password": "owner-pass-123"})
    assert blocked.status_code == 429
    assert b"Too many failed sign-ins" in blocked.content


def test_signup_logs_the_new_user_in(client):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "newbie",
            "email": "n@example.com",
            "password1": "a-long-pass-9876",
            "password2": "a-long-pass-9876",
        },
    )
    assert response.status_code == 302
    assert client.get("/api/v1/me").json()["username"] == "newbie"


def test_logout_ends_the_session(owner, client):
    client.force_login(owner)
    client.post("/accounts/logout/")
    assert client.get("/api/v1/me").status_code == 401


def test_password_change_works(owner, client):
    client.force_login(owner)
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": "owner-pass-123", "password1": "brand-new-pass-77", "password2": "brand-new-pass-77"},
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("brand-new-pass-77")


def test_the_old_password_address_leads_to_the_change_page(owner, client):
    client.force_login(owner)
    response = client.get("/accounts/password/")
    assert response.status_code == 302 and response["Location"] == "/accounts/password/change/"
