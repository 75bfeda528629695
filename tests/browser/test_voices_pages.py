"""Voices: clone from an uploaded sample with consent, record a sample with the
(fake) microphone, remove samples, delete the voice. Without XTTS weights a clone is
`pending_engine`, which the badge shows."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import clone_voice, shoot

pytestmark = pytest.mark.browser


def test_cloning_a_voice_from_an_uploaded_sample_needs_consent_and_shows_its_status(session, speech_wav):
    page = session.new_page()
    page.goto("/voices/")
    expect(page.get_by_role("heading", name="joe")).to_be_visible()
    shoot(page, "voices-list-empty")
    page.get_by_role("link", name="Clone a voice").first.click()
    expect(page).to_have_url(f"{session.url}/voices/new/")
    expect(page.locator("#consent-statement")).to_contain_text("has given explicit consent")

    # Nothing filled in: every problem is named next to its field.
    page.get_by_role("button", name="Create voice").click()
    expect(page.locator("#voice-form-error")).to_contain_text("Some things need your attention")
    expect(page.locator("[data-error-for=name]")).to_have_text("Give the voice a name.")
    expect(page.locator("[data-sample-picker] [data-error-for=samples]")).to_contain_text("Add at least one sample")
    expect(page.locator("[data-error-for=consent]")).to_contain_text("Tick the box")

    name = f"Narrator {uuid.uuid4().hex[:4]}"
    page.get_by_label("Name").fill(name)
    page.get_by_label("Language").select_option("en")
    page.get_by_label("Description").fill("Calm reading voice")
    page.locator("[data-file-input]").set_input_files(str(speech_wav))
    item = page.locator("[data-sample-entry=file]")
    expect(item).to_have_count(1)
    expect(item.locator("[data-meta]")).to_contain_text(" s ·")  # measured in the browser
    item.get_by_label("Emotion").select_option("calm")
    page.get_by_label("I have the speaker's consent.").check()
    shoot(page, "voice-new-filled")
    page.get_by_role("button", name="Create voice").click()

    page.wait_for_url("**/voices/*/?created=1")
    badge = page.locator("h1 [data-voice-status]")
    expect(badge).to_have_text("Pending Engine")
    expect(page.locator("[data-voice-message]")).to_contain_text("Voice cloning is not enabled on this server yet")
    samples = page.locator("[data-sample-row]")
    expect(samples).to_have_count(1)
    expect(samples.first).to_contain_text("calm")
    # The stored sample plays: the audio endpoint answers with a WAV.
    src = samples.first.locator("audio").get_attribute("src")
    response = session.api(page, "GET", src)
    assert response.status == 200 and response.body()[:4] == b"RIFF"
    shoot(page, "voice-detail")

    page.goto("/voices/")
    card = page.locator("[data-voice-card]", has_text=name)
    expect(card.locator("[data-voice-status]")).to_have_text("Pending Engine")
    shoot(page, "voices-list")

    # The same name again is refused by the server, and its message is shown.
    page.goto("/voices/new/")
    page.get_by_label("Name").fill(name)
    page.locator("[data-file-input]").set_input_files(str(speech_wav))
    expect(page.locator("[data-sample-entry=file] [data-meta]")).to_contain_text(" s ·")
    page.get_by_label("I have the speaker's consent.").check()
    page.get_by_role("button", name="Create voice").click()
    expect(page.locator("#voice-form-error")).to_contain_text(f"You already have a voice named '{name}'")


def test_a_sample_recorded_with_the_microphone_is_played_back_and_saved(session, speech_wav):
    page = session.new_page()
    page.goto("/voices/")
    name = f"Recorded {uuid.uuid4().hex[:4]}"
    voice_id = clone_voice(session, page, speech_wav, name)["id"]
    page.goto(f"/voices/{voice_id}/")
    expect(page.locator("[data-sample-row]")).to_have_count(1)
    # The only sample cannot be removed.
    expect(page.locator("[data-delete-sample]")).to_be_disabled()

    recorder = page.locator("[data-recorder]")
    recorder.get_by_role("button", name="● Record").click()
    expect(recorder.get_by_role("button", name="■ Stop")).to_be_enabled()
    expect(recorder.locator("[data-rec-status]")).to_contain_text("Recording")
    # The level meter moves and the clock runs while the fake microphone speaks.
    page.wait_for_function("() => document.querySelector('[data-rec-level]').value > 0.2", timeout=5000)
    page.wait_for_function(
        "() => Number(document.querySelector('[data-rec-time]').dataset.seconds) >= 4.2", timeout=10000
    )
    shoot(page, "voice-recording")
    recorder.get_by_role("button", name="■ Stop").click()

    review = recorder.locator("[data-rec-review]")
    expect(review).to_be_visible()
    # Play it back before saving: the recording decodes to about four seconds and plays.
    info = review.locator("[data-rec-info]")
    expect(info).to_have_attribute("data-seconds", re.compile(r"^\d+\.\d+$"))
    assert 3.5 < float(info.get_attribute("data-seconds")) < 6.5
    page.evaluate("() => document.querySelector('[data-rec-audio]').play()")
    page.wait_for_function("() => document.querySelector('[data-rec-audio]').currentTime > 0.3")
    review.get_by_role("button", name="Use this recording").click()
    entry = page.locator("[data-sample-entry=recording]")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("recording-1.webm")
    entry.get_by_label("Emotion").select_option("happy")
    page.get_by_label("I have the speaker's consent for these recordings.").check()
    shoot(page, "voice-recorded-sample")
    page.get_by_role("button", name="Upload samples").click()

    rows = page.locator("[data-sample-row]")
    expect(rows).to_have_count(2, timeout=30_000)
    expect(rows.nth(1)).to_contain_text("happy")
    expect(rows.nth(1)).to_contain_text("webm/opus")
    expect(page.locator("#toast")).to_contain_text("Samples added")
    page.wait_for_load_state("load")  # the page reloaded: let its scripts attach

    # Remove the first sample (with confirmation), then delete the voice.
    rows.first.get_by_role("button", name="Remove sample").click()
    page.get_by_role("dialog").get_by_role("button", name="Remove sample").click()
    expect(page.locator("[data-sample-row]")).to_have_count(1)
    page.wait_for_load_state("load")
    page.get_by_role("button", name="Delete voice…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Delete the voice “{name}”?")
    dialog.get_by_role("button", name="Delete voice").click()
    expect(page).to_have_url(f"{session.url}/voices/")
    expect(page.locator("#toast")).to_contain_text("deleted")
    expect(page.locator("[data-voice-card]", has_text=name)).to_have_count(0)


def test_a_ready_voice_plays_its_preview(session):
    page = session.new_page()
    page.goto("/voices/")
    page.get_by_role("link", name="joe", exact=True).click()
    expect(page.get_by_role("heading", name="joe")).to_be_visible()
    expect(page.locator("h1 [data-voice-status]")).to_have_text("Ready")
    page.get_by_role("button", name="▶ Play preview").click()
    audio = page.get_by_label("Voice preview")
    expect(audio).to_be_visible(timeout=30_000)
    expect(audio).to_have_attribute("src", re.compile(r"^blob:"))
    page.wait_for_function("() => document.querySelector('[data-preview-audio]').currentTime > 0.2")
    expect(page.get_by_role("link", name="Generate with this voice")).to_be_visible()
    shoot(page, "voice-detail-builtin")
