"""Usage chart and quota; every page usable at phone width and by keyboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shoot

pytestmark = pytest.mark.browser

PAGES = ["/", "/generate/", "/voices/", "/voices/new/", "/history/", "/keys/", "/usage/"]


def test_usage_charts_characters_and_seconds_per_day_with_the_quota(session):
    page = session.new_page()
    page.goto("/usage/")
    job = session.make_job(page, "Usage is counted once per generation.")
    assert job["status"] == "completed"
    page.goto("/usage/")
    usage = session.api(page, "GET", "/api/v1/usage?group_by=day").json()
    characters = usage["totals"]["characters"]
    assert characters >= job["character_count"]
    expect(page.locator("[data-stat=characters] .stat-value")).to_have_text(f"{characters:,}")
    expect(page.locator("[data-stat=quota] .stat-value")).to_have_text(f"{usage['quota']['remaining']:,}")
    chars_chart = page.locator("svg[data-chart=chars]")
    seconds_chart = page.locator("svg[data-chart=s]")
    assert chars_chart.locator("rect.bar[height]").count() == 30
    tallest = max(
        float(h)
        for h in chars_chart.locator("rect.bar").evaluate_all("bars => bars.map(b => b.getAttribute('height'))")
    )
    assert tallest > 0
    expect(seconds_chart.locator("rect.bar title").last).to_contain_text(" s")
    expect(page.get_by_role("heading", name="By voice")).to_be_visible()
    expect(page.locator("table", has_text="joe")).to_be_visible()
    shoot(page, "usage")

    page.get_by_role("link", name="Last 7 days").click()
    assert page.locator("svg[data-chart=chars] rect.bar").count() == 7
    page.goto("/usage/?from=2026-02-10&to=2026-01-01")
    expect(page.get_by_role("alert")).to_contain_text("from must be on or before to")


def test_every_page_fits_a_phone_screen_and_passes_basic_accessibility_checks(session):
    page = session.new_page()
    page.set_viewport_size({"width": 375, "height": 740})
    for path in PAGES:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"{path} scrolls sideways by {overflow}px at 375px"
        unlabelled = page.evaluate(
            """() => [...document.querySelectorAll('input, select, textarea')]
                .filter((el) => el.type !== 'hidden' && !el.hidden && !el.closest('[hidden]'))
                .filter((el) => !(el.labels && el.labels.length))
                .filter((el) => !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
                .map((el) => el.outerHTML.slice(0, 80))"""
        )
        assert not unlabelled, f"{path} has controls without labels: {unlabelled}"
        shoot(page, f"phone-{path.strip('/').replace('/', '-') or 'home'}")

    # The navigation and the main actions are reachable by keyboard.
    page.goto("/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    page.goto("/keys/")
    page.get_by_label("Name").focus()
    page.keyboard.type("keyboard-only")
    page.keyboard.press("Enter")
    expect(page.locator("[data-secret-box]")).to_be_visible()
    # Focus lands on the new secret, selected, ready to copy.
    expect(page.get_by_label("New API key")).to_be_focused()
