"""Email through a real SMTP server: verification, password reset, email change."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress

from accounts.models import User
from monitoring.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-pass-9876"


def path_of(link: str) -> str:
    return urlsplit(link).path


def _signup(client, username: str, email: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/accounts/signup/", {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD}
    )


def _verified(user: User, email: str) -> bool:
    return EmailAddress.objects.filter(user=user, email=email, verified=True).exists()


def test_a_new_address_is_verified_by_the_link_mailed_to_it(client, mailbox):
    assert _signup(client, "vera", "vera@example.com").status_code == 302
    vera = User.objects.get(username="vera")
    assert not _verified(vera, "vera@example.com")
    [link] = mailbox.wait_for("vera@example.com", "confirm").links
    assert client.get(path_of(link)).status_code == 200  # a page with a button: a mail scanner confirms nothing
    assert not _verified(vera, "vera@example.com")
    client.post(path_of(link))
    assert _verified(vera, "vera@example.com")
    assert AuditEvent.objects.filter(action="email.verified", user=vera).exists()


def test_mandatory_verification_keeps_an_unverified_account_out(client, mailbox, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    response = _signup(client, "mona", "mona@example.com")
    assert response["Location"] == "/accounts/confirm-email/"
    assert client.get("/api/v1/me").status_code == 401
    response = client.post("/accounts/login/", {"login": "mona", "password": PASSWORD})
    assert response["Location"] == "/accounts/confirm-email/"
    assert client.get("/api/v1/me").status_code == 401
    [link] = mailbox.wait_for("mona@example.com", "confirm").links
    client.post(path_of(link))
    client.post("/accounts/login/", {"login": "mona@example.com", "password": PASSWORD})  # by email, too
    assert client.get("/api/v1/me").json()["username"] == "mona"


def _reset_link(client, mailbox, email: str, after: int = 0) -> str:  # type: ignore[no-untyped-def]
    assert client.post("/accounts/password/reset/", {"email": email})["Location"] == "/accounts/password/reset/done/"
    [link] = mailbox.wait_for(email, "password reset", after=after).links
    return path_of(link)


def _set_password(client, link: str, password: str):  # type: ignore[no-untyped-def]
    form = client.get(link)  # the key moves into the session; the form lives at a key-less address
    return client.post(form["Location"], {"password1": password, "password2": password})


def test_a_forgotten_password_is_reset_through_the_mailed_link(client, owner, mailbox):
    link = _reset_link(client, mailbox, "olivia@example.com")
    response = _set_password(client, link, "a-brand-new-pass-31")
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("a-brand-new-pass-31")
    assert AuditEvent.objects.filter(action="auth.password_reset", user=owner).exists()


def test_a_reset_link_works_once(client, owner, mailbox):
    link = _reset_link(client, mailbox, "olivia@example.com")
    _set_password(client, link, "a-brand-new-pass-31")
    again = client.get(link, follow=True)
    assert b"invalid" in again.content
    owner.refresh_from_db()
    assert owner.check_password("a-brand-new-pass-31")


def test_an_expired_reset_link_changes_nothing(client, owner, mailbox, settings):
    link = _reset_link(client, mailbox, "olivia@example.com")
    settings.PASSWORD_RESET_TIMEOUT = 1
    time.sleep(2.1)  # the token's clock counts whole seconds
    expired = client.get(link, follow=True)
    assert b"invalid" in expired.content
    owner.refresh_from_db()
    assert owner.check_password("owner-pass-123")


def test_a_forged_reset_link_changes_nothing(client, owner):
    forged = client.get(f"/accounts/password/reset/key/{owner.pk:x}-forged-0123456789abcdef/", follow=True)
    assert b"invalid" in forged.content
    owner.refresh_from_db()
    assert owner.check_password("owner-pass-123")


def test_a_reset_flood_is_rate_limited_and_says_nothing_about_who_has_an_account(client, owner, mailbox):
    known = [client.post("/accounts/password/reset/", {"email": "olivia@example.com"}) for _ in range(7)]
    unknown = [client.post("/accounts/password/reset/", {"email": "nobody@example.com"}) for _ in range(7)]
    answers = lambda responses: [(r.status_code, r.get("Location")) for r in responses]  # noqa: E731
    assert answers(known) == answers(unknown)
    assert answers(known)[:5] == [(302, "/accounts/password/reset/done/")] * 5
    assert {status for status, _ in answers(known)[5:]} == {429}
    assert len(mailbox.to("olivia@example.com")) == 5  # the flood stops reaching the mailbox
    assert mailbox.to("nobody@example.com") == []


def test_changing_the_email_is_verified_before_it_replaces_the_old_one(client, owner, mailbox):
    EmailAddress.objects.create(user=owner, email="olivia@example.com", verified=True, primary=True)
    client.post("/accounts/login/", {"login": "olivia", "password": "owner-pass-123"})
    client.post("/accounts/email/", {"action_add": "", "email": "olivia@new.example.com"})
    owner.refresh_from_db()
    assert owner.email == "olivia@example.com"  # not until the new address proves itself
    [link] = mailbox.wait_for("olivia@new.example.com", "confirm").links
    client.post(path_of(link))
    owner.refresh_from_db()
    assert owner.email == "olivia@new.example.com"
    assert list(EmailAddress.objects.filter(user=owner).values_list("email", flat=True)) == ["olivia@new.example.com"]
    assert AuditEvent.objects.filter(action="email.changed", user=owner).exists()


def test_an_address_another_account_verified_cannot_be_taken(client, owner, outsider, mailbox):
    EmailAddress.objects.create(user=owner, email="olivia@example.com", verified=True, primary=True)
    EmailAddress.objects.create(user=outsider, email="oscar@example.com", verified=True, primary=True)
    client.post("/accounts/login/", {"login": "olivia", "password": "owner-pass-123"})
    client.post("/accounts/email/", {"action_add": "", "email": "oscar@example.com"})
    for mail in mailbox.to("oscar@example.com"):
        for link in mail.links:
            if "/confirm-email/" in link:
                client.post(path_of(link))
    owner.refresh_from_db()
    assert owner.email == "olivia@example.com"
    assert not EmailAddress.objects.filter(user=owner, email="oscar@example.com", verified=True).exists()
    assert EmailAddress.objects.get(email="oscar@example.com", verified=True).user == outsider
