"""Read-along on the Generate page: the finished job's words light up one by one as
its audio plays, a click on a word plays from there, and captions download as SRT and
WebVTT that the subtitle parsers read."""

from __future__ import annotations

import pytest
import srt
import webvtt
from playwright.sync_api import expect

from speech.timings import spoken_words
from tests.browser.conftest import shoot

pytestmark = pytest.mark.browser

TEXT = "Read along with me. Every word lights up, one after another, as it is spoken."


def test_the_words_light_up_as_the_audio_plays(session):
    page = session.new_page()
    page.goto("/generate/")
    expect(page.locator("[data-live-status]")).to_have_text("Live")
    page.get_by_label("Text to speak").fill(TEXT)
    page.get_by_role("button", name="Generate", exact=True).click()
    card = page.locator("[data-job-card]")
    expect(card).to_have_attribute("data-ready", "true", timeout=60_000)

    reading = card.locator("[data-read-along]")
    expect(reading).to_be_visible()
    words = reading.locator(".word")
    expect(words).to_have_count(len(spoken_words(TEXT)))
    assert words.all_inner_texts() == spoken_words(TEXT)
    expect(reading).to_have_attribute("data-method", "exact")
    expect(card.locator("[data-read-along-note]")).to_contain_text("engine's own alignment")

    job_id = card.get_attribute("data-job-id")
    timings = session.api(page, "GET", f"/api/v1/synthesis/{job_id}/timings").json()["words"]

    # Played for real: the lit word follows the audio clock.
    page.evaluate("document.querySelector('[data-player] audio').play()")
    page.wait_for_function(
        f"() => document.querySelector('[data-player] audio').currentTime > {timings[5]['start'] + 0.05}"
    )
    state = page.evaluate(
        """() => {
            const audio = document.querySelector('[data-player] audio');
            audio.pause();
            const lit = [...document.querySelectorAll('[data-read-along] .word.current')];
            return {time: audio.currentTime, lit: lit.map((w) => Number(w.dataset.start))};
        }"""
    )
    assert len(state["lit"]) == 1
    lit = state["lit"][0]
    later = [w["start"] for w in timings if w["start"] > lit]
    assert lit <= state["time"] and (not later or state["time"] < later[0] + 0.3)
    shoot(page, "read-along-playing")

    # A seek moves the highlight; the words before it are marked spoken.
    page.evaluate(f"document.querySelector('[data-player] audio').currentTime = {timings[2]['start'] + 0.01}")
    expect(words.nth(2)).to_have_class("word current")
    expect(words.nth(1)).to_have_class("word spoken")
    expect(words.nth(2)).to_have_attribute("aria-current", "true")

    # A click on a word plays from its start.
    words.nth(8).click()
    page.wait_for_function(f"() => document.querySelector('[data-player] audio').currentTime >= {timings[8]['start']}")
    expect(words.nth(8)).to_have_class("word current")


def test_captions_download_as_srt_and_vtt(session):
    page = session.new_page()
    page.goto("/generate/")
    expect(page.locator("[data-live-status]")).to_have_text("Live")
    page.get_by_label("Text to speak").fill(TEXT)
    page.get_by_role("button", name="Generate", exact=True).click()
    card = page.locator("[data-job-card]")
    expect(card).to_have_attribute("data-ready", "true", timeout=60_000)

    with page.expect_download() as download:
        card.get_by_role("link", name="Captions (SRT)").click()
    cues = list(srt.parse(download.value.path().read_text()))
    assert download.value.suggested_filename.endswith(".srt")
    assert " ".join(c.content.replace("\n", " ") for c in cues).split() == TEXT.split()

    with page.expect_download() as download:
        card.get_by_role("link", name="Captions (VTT)").click()
    captions = webvtt.read(str(download.value.path())).captions
    assert captions[0].text.startswith("Read along with me.")


def test_a_history_row_reads_along_while_it_plays_and_offers_its_captions(session):
    page = session.new_page()
    job = session.make_job(page, "History reads along too. Word by word.")
    page.goto(f"/history/?q={'History reads along'}")
    row = page.locator(f"[data-job-row='{job['id']}']")
    row.get_by_role("button", name="Play audio").click()
    reading = row.locator("[data-read-along]")
    expect(reading.locator(".word")).to_have_count(len(spoken_words("History reads along too. Word by word.")))
    page.wait_for_function(
        "() => document.querySelector('tr audio') && document.querySelector('tr audio').currentTime > 0.3"
    )
    expect(reading.locator(".word.current")).to_have_count(1)
    shoot(page, "history-read-along")
    row.locator("[data-play]").click()  # the same button closes the player
    expect(reading).to_have_count(0)

    with page.expect_download() as download:
        row.get_by_role("link", name="Download VTT captions").click()
    assert download.value.suggested_filename == f"speaker-{job['id']}.vtt"
    assert webvtt.read(str(download.value.path())).captions[-1].text == "Word by word."
