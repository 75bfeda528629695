"""Generate: live counts that match the server's, parameters with reset, a job followed
over the websocket to a player with a waveform and a download, and streaming."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest
from playwright.sync_api import expect

from speech.text import count_characters, count_words
from tests.browser.conftest import shoot

pytestmark = pytest.mark.browser

COUNT_SAMPLES = [
    "(happy) Hello world",
    "I am (happy) today",
    "(laughs) hi",
    "Hi.(happy)There",
    "(happy) (sad) Two tags.",
    "  ( Happy )  spaced  out\n\n(calm)\tnext line ",
    "你好世界。(sad)再见！",
    "Emoji 🎉 party (angry) now! (whisper) psst",
    "3.14 is pi. (surprised) Wow…",
    '"Stop!" (calm) he said.',
    "",
    "(happy)",
    "Hello\u00a0world\u2003again \ufeff",
    "Dr. Smith (sad) arrived. (HAPPY) Yes!",
    "(whisper)...",
    "a\u0301 café naïve — test; 1,000 items",
    "\u0085x\u001cy",
    "Line one\n(sad) line two\r\n(unknown) three",
]


def test_the_pages_word_and_character_counts_match_the_servers(session):
    page = session.new_page()
    page.goto("/generate/")
    counted = page.evaluate(
        """async (samples) => {
            const text = await import('/static/js/text.js');
            return samples.map((s) => [text.countWords(s), text.countCharacters(s)]);
        }""",
        COUNT_SAMPLES,
    )
    expected = [[count_words(s), count_characters(s)] for s in COUNT_SAMPLES]
    mismatches = [(s, js, py) for s, js, py in zip(COUNT_SAMPLES, counted, expected, strict=False) if js != py]
    assert not mismatches

    # The counters under the text area use the same rules as you type.
    page.get_by_label("Text to speak").fill("(happy) Hello there, friend! (laughs) I am (sad) fine.")
    expect(page.locator("[data-count-words]")).to_have_text(
        str(count_words("(happy) Hello there, friend! (laughs) I am (sad) fine."))
    )
    expect(page.locator("[data-count-chars]")).to_have_text(
        str(count_characters("(happy) Hello there, friend! (laughs) I am (sad) fine."))
    )
    expect(page.locator("[data-tags-used]")).to_have_text("Tags in your text: happy.")


def test_generating_with_the_builtin_voice_shows_progress_then_a_player_and_a_download(session, tmp_path: Path):
    page = session.new_page()
    page.goto("/generate/")
    expect(page.locator("[data-live-status]")).to_have_text("Live")
    expect(page.get_by_label("Voice", exact=True)).to_have_value(
        page.locator("#gen-voice option", has_text="joe").get_attribute("value")
    )

    # An empty text is refused before anything is sent.
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator("[data-error-for=text]")).to_contain_text("Type some text")

    # Emotion tag help inserts a tag at the cursor.
    page.get_by_text("Emotion tags: how to change the tone").click()
    text = page.get_by_label("Text to speak")
    text.fill("Good morning.")
    page.get_by_role("button", name="(happy)").click()
    text.press("End")
    text.type("What a lovely day it is! (calm) Let us begin.")
    expect(text).to_have_value("Good morning. (happy) What a lovely day it is! (calm) Let us begin.")

    # Sliders show their value and reset to the defaults.
    speed = page.get_by_label("Speed")
    speed.fill("1.5")
    expect(page.locator("[data-output-for=speed]")).to_have_text("1.5")
    page.get_by_role("button", name="Reset to defaults").click()
    expect(speed).to_have_value("1")
    expect(page.locator("[data-output-for=speed]")).to_have_text("1")
    speed.fill("1.1")
    page.get_by_label("Audio format").select_option("mp3")
    shoot(page, "generate-filled")

    page.get_by_role("button", name="Generate", exact=True).click()
    card = page.locator("[data-job-card]")
    expect(card).to_be_visible()
    expect(card.locator("[data-job-badge]")).to_have_text("Completed", timeout=60_000)
    expect(card.locator("[data-job-progress]")).to_have_js_property("value", 1)
    expect(card.locator("[data-job-progress-text]")).to_have_text("Done")
    expect(card).to_have_attribute("data-ready", "true")
    player = card.locator("[data-player] audio")
    expect(player).to_be_visible()
    page.wait_for_function("() => document.querySelector('[data-player] audio').duration > 1")
    # The waveform is drawn from the decoded audio.
    painted = page.evaluate(
        """() => {
            const c = document.querySelector('[data-waveform]');
            const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i]) n++;
            return n;
        }"""
    )
    assert painted > 500
    page.evaluate("document.querySelector('[data-player] audio').play()")
    page.wait_for_function("() => document.querySelector('[data-player] audio').currentTime > 0.2")
    shoot(page, "generate-done")

    job_id = card.get_attribute("data-job-id")
    job = session.api(page, "GET", f"/api/v1/synthesis/{job_id}").json()
    assert job["params"]["speed"] == pytest.approx(1.1)
    assert job["format"] == "mp3" and job["voice"] == "joe"
    assert job["character_count"] == count_characters(text.input_value())

    expect(card.get_by_label("Download as")).to_have_value("mp3")
    with page.expect_download() as download_info:
        card.get_by_role("link", name="Download").click()
    download = download_info.value
    assert download.suggested_filename == f"speaker-{job_id}.mp3"
    card.get_by_label("Download as").select_option("wav")
    with page.expect_download() as download_info:
        card.get_by_role("link", name="Download").click()
    saved = tmp_path / "speech.wav"
    download_info.value.save_as(saved)
    with wave.open(str(saved)) as audio:
        assert audio.getnframes() / audio.getframerate() > 2


def test_server_errors_are_shown_next_to_the_field(session):
    page = session.new_page()
    page.goto("/generate/")
    page.get_by_label("Text to speak").fill("Hello there.")
    # A value the server rejects (the slider cannot make one; the API can be asked anyway).
    page.evaluate("document.querySelector('#p-seed').value = '-5'")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator("#generate-error")).to_contain_text("seed")
    expect(page.locator("[data-error-for=seed]")).to_contain_text("seed must be in")
    expect(page.get_by_label("Seed")).to_have_attribute("aria-invalid", "true")


def test_streaming_starts_playing_before_the_job_is_done_and_keeps_it(session):
    page = session.new_page()
    page.goto("/generate/")
    page.get_by_label("Text to speak").fill(
        "This sentence is streamed first. Then a second one follows. And a third one ends the stream."
    )
    page.get_by_label("Stream").check()
    page.get_by_role("button", name="Generate", exact=True).click()
    card = page.locator("[data-job-card]")
    expect(card).to_have_attribute("data-ready", "true", timeout=60_000)
    expect(card.locator("[data-job-badge]")).to_have_text("Completed")
    seconds = float(card.get_attribute("data-stream-seconds"))
    assert seconds > 3
    expect(card.locator("[data-job-progress-text]")).to_contain_text("streamed")
    shoot(page, "generate-streamed")
    job = session.api(page, "GET", f"/api/v1/synthesis/{card.get_attribute('data-job-id')}").json()
    assert job["mode"] == "stream" and job["status"] == "completed"
    assert job["audio_duration"] == pytest.approx(seconds, abs=0.3)
