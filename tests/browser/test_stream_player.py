"""Generate → Stream: one player follows the stream from its first audio. It pauses
and stops while streaming, the words light up as they are spoken, and once all audio is
in the page's player carries on from the same moment, seekable, with nothing playing
twice."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shoot

pytestmark = pytest.mark.browser

TEXT = " ".join(
    [
        "The stream begins with this sentence, and the player starts at once.",
        "Then a second sentence follows, a little longer than the first one was.",
        "A third sentence keeps the audio going while the rest is still being made.",
        "And a fourth sentence closes the stream, well after the first words were heard.",
    ]
)


def start_stream(page, text: str = TEXT) -> None:
    page.goto("/generate/")
    expect(page.locator("[data-live-status]")).to_have_text("Live")
    page.get_by_label("Text to speak").fill(text)
    page.get_by_label("Stream").check()
    page.get_by_role("button", name="Generate", exact=True).click()


def test_the_streamed_audio_carries_on_in_one_player_with_read_along(session):
    page = session.new_page()
    start_stream(page)
    card = page.locator("[data-job-card]")
    # Words light up while the stream plays, before the player has taken over.
    expect(card.locator("[data-read-along] .word.current")).to_have_count(1, timeout=30_000)
    expect(card).to_have_attribute("data-ready", "true", timeout=60_000)
    expect(card.locator("[data-job-badge]")).to_have_text("Completed")

    # One player, where the stream had got to, playing; not a second one at 0:00.
    state = page.evaluate("""() => { const a = document.querySelector('[data-player] audio');
                                   return {at: a.currentTime, paused: a.paused, hidden: a.hidden}; }""")
    assert not state["paused"] and not state["hidden"] and state["at"] > 0.5, state
    expect(card).to_have_attribute("data-stream-state", "handed-over")
    expect(card.locator("[data-read-along] .word.current")).to_have_count(1)
    shoot(page, "generate-stream-handed-over")

    # Pausing the player silences it: no stream audio is left playing behind it.
    page.evaluate("document.querySelector('[data-player] audio').pause()")
    expect(card.locator("[data-stream-controls]")).to_be_hidden()
    # Seekable now that the audio is complete.
    page.evaluate("document.querySelector('[data-player] audio').currentTime = 1.0")
    assert abs(page.evaluate("document.querySelector('[data-player] audio').currentTime") - 1.0) < 0.05


def test_a_stream_can_be_paused_and_stopped_while_it_plays(session):
    page = session.new_page()
    start_stream(page, (TEXT + " ") * 5)  # about two minutes of audio: still streaming when pressed
    card = page.locator("[data-job-card]")
    controls = card.locator("[data-stream-controls]")
    expect(controls).to_be_visible(timeout=30_000)
    controls.get_by_role("button", name="Pause").click()
    expect(card).to_have_attribute("data-stream-state", "paused")
    shoot(page, "generate-stream-paused")
    controls.get_by_role("button", name="Resume").click()
    expect(card).to_have_attribute("data-stream-state", "playing")
    controls.get_by_role("button", name="Stop").click()
    expect(card).to_have_attribute("data-stream-state", "stopped")
    expect(controls).to_be_hidden()
