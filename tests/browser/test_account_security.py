"""Account security in Chromium, against a server in invite mode whose email goes to a
real SMTP server on 127.0.0.1: sign-up by invitation, email verification, password
reset, TOTP (codes from pyotp) and passkeys (Chromium's virtual authenticator over CDP).

The pages are opened at http://localhost: WebAuthn refuses an IP address as the relying
party, and localhost is a secure context without TLS."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, shoot, shoot_on_failure
from tests.live import LiveServer
from tests.mail import MailServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def mailbox() -> Iterator[MailServer]:
    server = MailServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def invite_server(tmp_path_factory: pytest.TempPathFactory, mailbox: MailServer) -> Iterator[LiveServer]:
    env = {"SIGNUP_MODE": "invite", "EMAIL_URL": mailbox.url, "DEFAULT_FROM_EMAIL": "Speaker <speaker@localhost>"}
    server = LiveServer(workdir=tmp_path_factory.mktemp("invite"), extra_env=env)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def base(invite_server: LiveServer) -> str:
    return f"http://localhost:{invite_server.port}"


@pytest.fixture
def visitor(browser: Any, base: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    shoot_on_failure(context, request)


def create_user(server: LiveServer, *, staff: bool = False) -> tuple[str, str]:
    """A user (with a verified address) made by an operator at the command line."""
    username = f"u{uuid.uuid4().hex[:8]}"
    email = f"{username}@example.com"
    server.manage(
        "shell",
        "-c",
        "from accounts.models import User; from allauth.account.models import EmailAddress; "
        f"u = User.objects.create_user({username!r}, {email!r}, {PASSWORD!r}, is_staff={staff}); "
        f"EmailAddress.objects.create(user=u, email={email!r}, verified=True, primary=True)",
    )
    return username, email


def log_in(page: Any, base: str, login: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username or email").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()


def log_out(page: Any) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def link_in(mail: Any, base: str) -> str:
    [link] = mail.links
    assert urlsplit(link).netloc == urlsplit(base).netloc, link  # built from the address the browser used
    return link


def confirm_password(page: Any) -> None:
    """allauth asks for the password again before a change of second factor."""
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()


def fresh_code(secret: str) -> str:
    """The current TOTP code, with at least 3 seconds of its 30-second step left."""
    if 30 - time.time() % 30 < 3:
        time.sleep(30 - time.time() % 30 + 0.2)
    return pyotp.TOTP(secret).now()


def test_an_invited_person_signs_up_with_the_address_already_verified(
    browser, invite_server, base, visitor, mailbox, request
):
    staff, _ = create_user(invite_server, staff=True)
    log_in(visitor, base, staff)
    visitor.get_by_role("link", name=staff).click()  # the account settings
    visitor.get_by_role("navigation", name="Account settings").get_by_role("link", name="Invitations").click()
    invitee = f"ivy{uuid.uuid4().hex[:6]}@example.com"
    visitor.get_by_label("Email address").fill(invitee)
    visitor.get_by_label("Monthly character quota").fill("5000")
    visitor.get_by_role("button", name="Send invitation").click()
    expect(visitor.get_by_role("status").filter(has_text="Invitation sent")).to_be_visible()
    shoot(visitor, "invitations")

    context = browser.new_context(base_url=base)
    page = context.new_page()
    page.goto(f"{base}/accounts/signup/")  # no invitation: no form
    expect(page.get_by_role("heading", name="Sign-up is by invitation")).to_be_visible()
    page.goto(link_in(mailbox.wait_for(invitee, "invited"), base))
    expect(page.get_by_label("Email address")).to_have_value(invitee)
    username = invitee.split("@")[0]
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name=f"Welcome, {username}")).to_be_visible()
    page.goto(f"{base}/accounts/email/")
    expect(page.get_by_label("Current email")).to_have_value(invitee)
    expect(page.locator("main")).not_to_contain_text("pending verification")
    shoot(page, "signed-up-by-invitation")

    page.get_by_role("button", name="Log out").click()
    page.goto(link_in(mailbox.wait_for(invitee, "invited"), base))  # a second use
    expect(page.get_by_role("alert")).to_contain_text("not valid")
    shoot_on_failure(context, request)


def test_a_new_address_is_verified_through_the_mailed_link_before_it_counts(invite_server, base, visitor, mailbox):
    username, email = create_user(invite_server)
    log_in(visitor, base, username)
    visitor.get_by_role("link", name=username).click()  # the account settings
    new = f"{username}@new.example.com"
    visitor.get_by_label("Change to").fill(new)
    visitor.get_by_role("button", name="Change Email").click()
    expect(visitor.locator("main")).to_contain_text("pending verification")
    expect(visitor.get_by_label("Current email")).to_have_value(email)  # until the new one is verified
    shoot(visitor, "email-change-pending")
    visitor.goto(link_in(mailbox.wait_for(new, "confirm"), base))
    visitor.get_by_role("button", name="Confirm").click()
    visitor.goto(f"{base}/accounts/email/")
    expect(visitor.get_by_label("Current email")).to_have_value(new)
    expect(visitor.locator("main")).not_to_contain_text("Changing to")
    log_out(visitor)
    log_in(visitor, base, new)  # the new address signs in
    expect(visitor).to_have_url(f"{base}/")


def test_a_forgotten_password_is_reset_from_the_login_page(invite_server, base, visitor, mailbox):
    username, email = create_user(invite_server)
    visitor.goto(f"{base}/accounts/login/")
    visitor.get_by_role("link", name="Forgot your password?").click()
    visitor.get_by_label("Email").fill(email)
    visitor.get_by_role("button", name="Reset My Password").click()
    expect(visitor.locator("main")).to_contain_text("sent you an email")
    link = link_in(mailbox.wait_for(email, "password reset"), base)
    visitor.goto(link)
    visitor.get_by_label("New Password", exact=True).fill("a-brand-new-pass-31")
    visitor.get_by_label("New Password (again)").fill("a-brand-new-pass-31")
    visitor.get_by_role("button", name="Change Password").click()
    expect(visitor.locator("main")).to_contain_text("password is now changed")
    visitor.goto(link)  # the link worked once
    expect(visitor.locator("main")).to_contain_text("invalid")
    log_in(visitor, base, username, "a-brand-new-pass-31")
    expect(visitor).to_have_url(f"{base}/")


def test_totp_enrolment_then_sign_in_with_a_code(invite_server, base, visitor):
    username, _ = create_user(invite_server)
    log_in(visitor, base, username)
    visitor.goto(f"{base}/accounts/2fa/")
    visitor.get_by_role("link", name="Activate").click()
    confirm_password(visitor)
    secret = visitor.get_by_label("Authenticator secret").input_value()
    shoot(visitor, "totp-activate")
    visitor.get_by_label("Authenticator code").fill(fresh_code(secret))
    visitor.get_by_role("button", name="Activate").click()
    expect(visitor.locator("main")).to_contain_text("Recovery Codes")
    visitor.goto(f"{base}/")
    log_out(visitor)

    log_in(visitor, base, username)
    expect(visitor).to_have_url(f"{base}/accounts/2fa/authenticate/")
    visitor.get_by_label("Code").fill("000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    visitor.get_by_role("button", name="Sign In").click()
    expect(visitor.get_by_role("alert")).to_contain_text("Incorrect code")
    visitor.get_by_label("Code").fill(fresh_code(secret))
    visitor.get_by_role("button", name="Sign In").click()
    expect(visitor.get_by_role("heading", name=f"Welcome, {username}")).to_be_visible()


def test_a_passkey_is_enrolled_and_then_signs_in_without_a_password(invite_server, base, visitor):
    cdp = visitor.context.new_cdp_session(visitor)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    username, _ = create_user(invite_server)
    log_in(visitor, base, username)
    visitor.goto(f"{base}/accounts/2fa/webauthn/add/")
    confirm_password(visitor)
    visitor.get_by_label("Name").fill("Laptop")
    visitor.get_by_label("Passwordless").check()
    visitor.get_by_role("button", name="Add", exact=True).click()
    expect(visitor).not_to_have_url(re.compile(r"/webauthn/add/$"))
    visitor.goto(f"{base}/accounts/2fa/")
    expect(visitor.locator("main")).to_contain_text("1 security key")
    shoot(visitor, "passkey-added")
    visitor.goto(f"{base}/")
    log_out(visitor)

    visitor.get_by_role("button", name="Sign in with a passkey").click()
    expect(visitor.get_by_role("heading", name=f"Welcome, {username}")).to_be_visible()
