"""SIGNUP_MODE: open, invite (staff invitations, single use, expiring) and closed."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from accounts.models import Invitation, User
from monitoring.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-pass-9876"


def _signup(client, username: str, email: str, path: str = "/accounts/signup/"):  # type: ignore[no-untyped-def]
    return client.post(path, {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD})


@pytest.fixture
def staff(db) -> User:
    return User.objects.create_user(
        username="stella", email="stella@example.com", password="staff-pass-123", is_staff=True
    )


@pytest.fixture
def invite_mode(settings):  # type: ignore[no-untyped-def]
    settings.SIGNUP_MODE = "invite"


def _invite(client, staff: User, mailbox, email: str = "ivy@example.com", **extra) -> str:  # type: ignore[no-untyped-def]
    """Staff invite `email` from the dashboard; the link is read from the mail it got."""
    client.force_login(staff)
    response = client.post("/accounts/invitations/", {"email": email, "days": 7, **extra})
    assert response.status_code == 200, response.content
    client.logout()
    [link] = mailbox.wait_for(email, "invited").links
    return urlsplit(link).path + "?" + urlsplit(link).query


def test_closed_mode_has_no_signup_page_and_the_login_page_says_so(client, settings):
    settings.SIGNUP_MODE = "closed"
    assert client.get("/accounts/signup/").status_code == 404
    assert _signup(client, "eve", "eve@example.com").status_code == 404
    assert not User.objects.filter(username="eve").exists()
    login = client.get("/accounts/login/").content.decode()
    assert "Sign-up is closed" in login and 'href="/accounts/signup/"' not in login


def test_invite_mode_without_a_token_refuses_to_sign_up(client, invite_mode):
    page = client.get("/accounts/signup/")
    assert page.status_code == 403 and b"by invitation" in page.content
    assert _signup(client, "eve", "eve@example.com").status_code == 403
    assert not User.objects.filter(username="eve").exists()


def test_a_forged_invitation_is_refused(client, invite_mode):
    page = client.get("/accounts/signup/?invitation=forged-token-0123456789")
    assert page.status_code == 403 and b"not valid" in page.content
    assert _signup(client, "eve", "eve@example.com").status_code == 403


def test_an_invitation_creates_the_account_with_its_email_verified_and_quota(client, staff, mailbox, invite_mode):
    link = _invite(client, staff, mailbox, monthly_character_quota=1234)
    assert client.get(link).status_code == 200
    response = _signup(client, "ivy", "ivy@example.com")
    assert response.status_code == 302
    ivy = User.objects.get(username="ivy")
    assert ivy.monthly_character_quota == 1234
    assert EmailAddress.objects.get(user=ivy).verified
    assert not mailbox.to("ivy@example.com")[1:], "no verification mail: the invitation proved the address"
    assert Invitation.objects.get().accepted_by == ivy
    assert AuditEvent.objects.filter(action="invitation.accepted", user=ivy).exists()
    assert AuditEvent.objects.filter(action="invitation.created", user=staff).exists()


def test_a_used_invitation_cannot_make_a_second_account(client, staff, mailbox, invite_mode):
    link = _invite(client, staff, mailbox)
    client.get(link)
    assert _signup(client, "ivy", "ivy@example.com").status_code == 302
    client.logout()
    again = client.get(link)
    assert again.status_code == 403 and b"not valid" in again.content
    assert _signup(client, "ivy2", "ivy@example.com").status_code == 403
    assert User.objects.filter(email="ivy@example.com").count() == 1


def test_an_invitation_spent_while_its_form_was_open_creates_nothing(client, staff, mailbox, invite_mode):
    link = _invite(client, staff, mailbox)
    client.get(link)  # the form is open in this browser...
    Invitation.objects.update(accepted_at=timezone.now())  # ...when another sign-up spends the link
    assert _signup(client, "ivy", "ivy@example.com").status_code == 403
    assert not User.objects.filter(username="ivy").exists()


def test_an_expired_invitation_is_refused(client, staff, mailbox, invite_mode):
    link = _invite(client, staff, mailbox)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(link).status_code == 403
    assert _signup(client, "ivy", "ivy@example.com").status_code == 403


def test_an_invitation_is_for_the_address_it_was_sent_to(client, staff, mailbox, invite_mode):
    link = _invite(client, staff, mailbox)
    client.get(link)
    response = _signup(client, "mallory", "mallory@example.com")
    assert response.status_code == 200 and b"address the invitation was sent to" in response.content
    assert not User.objects.filter(username="mallory").exists()


def test_only_staff_reach_the_invitations_page(client, owner):
    client.force_login(owner)
    assert client.get("/accounts/invitations/").status_code == 302  # to the admin's sign-in
    assert client.post("/accounts/invitations/", {"email": "x@example.com", "days": 7}).status_code == 302
    assert not Invitation.objects.exists()


def test_staff_invite_from_the_admin_too(admin_client, mailbox):
    response = admin_client.post(
        "/admin/accounts/invitation/add/",
        {"email": "Ada@Example.com", "expires_at_0": "2999-01-01", "expires_at_1": "00:00:00"},
        follow=True,
    )
    assert b"shown only now" in response.content
    invitation = Invitation.objects.get()
    assert invitation.email == "ada@example.com" and invitation.token_hash
    [link] = mailbox.wait_for("ada@example.com", "invited").links
    assert link.split("invitation=")[1] not in invitation.token_hash  # only a hash is stored


def test_open_mode_signs_up_anyone(client, settings):
    settings.SIGNUP_MODE = "open"
    assert _signup(client, "newbie", "newbie@example.com").status_code == 302
    assert User.objects.filter(username="newbie").exists()
