"""Signing up, out and in through the real pages."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, shoot, sign_up

pytestmark = pytest.mark.browser


def test_a_visitor_signs_up_lands_on_the_dashboard_and_can_log_out_and_in(new_visitor, speaker_server):
    page = new_visitor.new_page()
    page.goto(f"{speaker_server.url}/generate/")
    # Signed-out visitors are sent to the login page, which links to sign-up.
    expect(page).to_have_url(f"{speaker_server.url}/accounts/login/?next=/generate/")
    shoot(page, "login")
    page.get_by_role("link", name="Sign up", exact=True).first.click()
    shoot(page, "signup")

    # A mismatched confirmation is explained next to the field.
    page.get_by_label("Username").fill("someone")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD + "x")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("alert").first).to_contain_text("didn’t match")

    username = f"newcomer{uuid.uuid4().hex[:6]}"
    sign_up(page, speaker_server.url, username)
    expect(page.get_by_role("heading", name=f"Welcome, {username}")).to_be_visible()
    expect(page.get_by_text("Quota remaining")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link")).to_have_text(
        ["Home", "Generate", "Voices", "History", "Productions", "Pronunciation", "API keys", "Webhooks", "Usage"]
    )
    shoot(page, "home-new-user")

    # The account's own settings are behind its name: email, password, two-factor, data.
    page.get_by_role("link", name=username, exact=True).click()
    page.get_by_role("navigation", name="Account settings").get_by_role("link", name="Password").click()
    expect(page.get_by_role("heading", name="Change password")).to_be_visible()
    shoot(page, "password-change")
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{speaker_server.url}/accounts/login/")
    page.goto(f"{speaker_server.url}/")  # signed out: back to the login page
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("wrong-password-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert").first).to_contain_text("correct username and password")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{speaker_server.url}/")
