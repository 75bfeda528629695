"""The staff Engines page: an XTTS install that cannot download says so, with the
reason and what to do, and keeps the licence ticked."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shoot

pytestmark = pytest.mark.browser


def test_a_failed_install_shows_what_failed_why_and_what_to_do(staff_session):
    page = staff_session.new_page()
    page.goto("/engines/")
    expect(page.get_by_role("heading", name="XTTS v2 (voice cloning)")).to_be_visible()
    page.get_by_label("I accept").check()
    page.get_by_role("button", name="Install XTTS").click()

    failure = page.locator("[data-xtts-error]")
    expect(failure).to_be_visible()
    expect(failure).to_contain_text("The last install failed.")
    expect(failure.locator("[data-xtts-reason-text]")).to_contain_text("127.0.0.1:9")  # the mirror it could not reach
    expect(failure).to_contain_text("What to do")
    expect(page.get_by_label("I accept")).to_be_checked()
    expect(page.get_by_role("button", name="Try the install again")).to_be_enabled()
    shoot(page, "engines-install-failed")
