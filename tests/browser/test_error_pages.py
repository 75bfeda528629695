"""A missing page in Chromium: Speaker's own page in the dashboard's look, styled under
the CSP (no blocked inline style), at desktop and phone sizes, signed in or not."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shoot

pytestmark = pytest.mark.browser


def check_not_found_page(page: Any, *, size: str) -> None:
    response = page.goto("/no-such-page/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1, name="Page not found", exact=True)).to_be_visible()
    card = page.locator(".error-card")
    expect(card).to_be_visible()
    # app.css applied: the card has the dashboard's border, radius and white background.
    style = card.evaluate(
        "el => { const s = getComputedStyle(el); return [s.backgroundColor, s.borderTopStyle, s.borderTopLeftRadius]; }"
    )
    assert style[0] == "rgb(255, 255, 255)" and style[1] == "solid" and style[2] != "0px", style
    expect(page.locator(".topbar .brand")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the 404 page scrolls sideways by {overflow}px ({size})"
    shoot(page, f"error-404-{size}")


def collect_csp_problems(page: Any) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return problems


def test_a_missing_page_is_speakers_own_page_for_a_visitor(new_visitor):
    page = new_visitor.new_page()
    problems = collect_csp_problems(page)
    check_not_found_page(page, size="desktop")
    page.get_by_role("link", name="Go to the dashboard").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()  # the dashboard asks a visitor to sign in
    page.set_viewport_size({"width": 390, "height": 844})
    check_not_found_page(page, size="phone")
    assert not problems, problems


def test_a_missing_page_keeps_the_signed_in_navigation(session):
    page = session.new_page()  # the session fails the test on any CSP report or page error
    check_not_found_page(page, size="desktop-signed-in")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    page.get_by_role("link", name="Go to the dashboard").click()
    expect(page).to_have_url(f"{session.url}/")
