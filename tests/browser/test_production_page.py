"""A production's page while it is being spoken: live updates change rows in place and
never undo what the person is typing or playing; Cancel and Delete ask first; Pause says
that the segments already being spoken finish."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shoot

pytestmark = pytest.mark.browser

SENTENCES = [
    "The quiet river ran past the old mill, and the miller counted the sacks of flour by the door.",
    "Children from the village came down every morning to watch the wheel turn in the cold water.",
    "In the evening the lamps were lit one by one, and the smell of bread drifted over the fields.",
    "Nobody remembered who had built the mill, but everybody agreed that it had always been there.",
    "When winter came the river froze at its edges, and the wheel turned slowly through the ice.",
]


def long_text(paragraphs: int) -> str:
    return "\n\n".join(f"{' '.join(SENTENCES)} Paragraph {n}." for n in range(1, paragraphs + 1))


def start_production(session, page, title: str, paragraphs: int = 8) -> dict:
    response = session.api(
        page, "POST", "/api/v1/productions", data={"text": long_text(paragraphs), "voice": "joe", "title": title}
    )
    assert response.status in (201, 202), response.text()
    return response.json()


def segments_done(page) -> int:
    return int(page.locator("[data-progress-text]").inner_text().split("/")[0].replace(",", "").strip())


def wait_until(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_live_updates_keep_the_text_being_typed_and_the_segment_being_played(session):
    page = session.new_page()
    page.goto("/productions/")
    production = start_production(session, page, "The mill")
    page.goto(f"/productions/{production['id']}/")
    rows = page.locator("[data-segments] tr[data-segment]")
    expect(rows.first).to_be_visible()
    last = rows.last
    total = rows.count()
    assert total >= 6

    # The first segment is spoken: play it.
    player = rows.first.get_by_role("button", name="Regenerate segment 1")
    expect(rows.first.locator("audio")).to_have_count(1, timeout=60_000)
    expect(rows.first.locator("audio")).to_have_accessible_name("Segment 1")
    page.evaluate("""() => { window.played = document.querySelector('tr[data-segment="1"] audio');
                      window.played.loop = true;  // still playing when the next segments are done
                      return window.played.play(); }""")
    # A fix typed into a segment still waiting.
    box = last.get_by_role("textbox")
    box.click()
    box.press("Control+End")
    box.type(" A fix typed while the others are spoken.")
    before = segments_done(page)
    wait_until(lambda: segments_done(page) >= before + 2)
    shoot(page, "production-live-updates")

    assert box.input_value().endswith("A fix typed while the others are spoken.")
    assert page.evaluate("document.activeElement === document.querySelector('tr[data-segment]:last-child textarea')")
    same, paused, at, ended = (
        page.evaluate("""() => [document.querySelector('tr[data-segment="1"] audio') === window.played,
                            window.played.paused, window.played.currentTime, window.played.ended]""")
    )
    assert same and not paused, (same, paused, at, ended)
    assert player.is_visible()
    session.api(page, "POST", f"/api/v1/productions/{production['id']}/cancel")


def test_pause_says_what_finishes_and_cancel_and_delete_ask_first(session):
    page = session.new_page()
    page.goto("/productions/")
    production = start_production(session, page, "Ask first")
    page.goto(f"/productions/{production['id']}/")
    pause = page.get_by_role("button", name="Pause")
    expect(pause).to_be_enabled()
    pause.click()
    expect(page.locator("[data-status]")).to_have_text("paused")
    expect(page.locator("[data-message]")).to_contain_text("Segments already being spoken finish")

    # Cancel asks, with the keys page's dialog; keeping it changes nothing.
    page.get_by_role("button", name="Cancel", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Cancel “Ask first”?")
    expect(dialog).to_contain_text("cannot be resumed")
    shoot(page, "production-cancel-dialog")
    dialog.get_by_role("button", name="Keep it").click()
    expect(dialog).to_be_hidden()
    assert session.api(page, "GET", f"/api/v1/productions/{production['id']}").json()["status"] == "paused"

    page.get_by_role("button", name="Cancel", exact=True).click()
    dialog.get_by_role("button", name="Cancel production").click()
    expect(page.locator("[data-status]")).to_have_text("cancelled")

    # Delete asks too, then the production is gone.
    page.get_by_role("button", name="Delete").click()
    expect(dialog).to_contain_text("Delete “Ask first”?")
    dialog.get_by_role("button", name="Keep it").click()
    assert session.api(page, "GET", f"/api/v1/productions/{production['id']}").status == 200
    page.get_by_role("button", name="Delete").click()
    dialog.get_by_role("button", name="Delete production").click()
    page.wait_for_url("**/productions/?deleted=*")
    expect(page.locator("[data-deleted]")).to_contain_text("Deleted “Ask first”.")
    expect(page.get_by_role("link", name="Ask first")).to_have_count(0)
    assert session.api(page, "GET", f"/api/v1/productions/{production['id']}").status == 404
