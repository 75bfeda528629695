"""The voice page's "Default settings" form: a value saved there is the voice's own
after a reload; one out of range is refused, its message next to its field."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import clone_voice, shoot

pytestmark = pytest.mark.browser


def test_a_saved_default_setting_is_kept_after_a_reload(session, speech_wav: Path) -> None:
    page = session.new_page()
    page.goto("/voices/")
    voice = clone_voice(session, page, speech_wav, "Settings voice")
    page.goto(f"/voices/{voice['id']}/")
    form = page.locator("[data-voice-settings-form]")

    form.get_by_label("Temperature").fill("0.9")
    form.get_by_label("Seed").fill("42")
    form.get_by_role("button", name="Save settings").click()

    expect(page.locator("#toast")).to_have_text("Settings saved.")
    page.reload()
    expect(form.get_by_label("Temperature")).to_have_value("0.9")
    expect(form.get_by_label("Seed")).to_have_value("42")
    expect(form.get_by_label("Speed")).to_have_value("")  # untouched: the engine's default
    stored = session.api(page, "GET", f"/api/v1/voices/{voice['id']}").json()["settings"]
    assert stored["temperature"] == 0.9 and stored["seed"] == 42


def test_an_out_of_range_setting_is_named_next_to_its_field(session, speech_wav: Path) -> None:
    page = session.new_page()
    page.goto("/voices/")
    voice = clone_voice(session, page, speech_wav, "Too fast voice")
    page.goto(f"/voices/{voice['id']}/")
    form = page.locator("[data-voice-settings-form]")
    speed = form.get_by_label("Speed")

    speed.fill("9")
    speed.press("Enter")  # submitted from the keyboard

    beside = form.locator('[data-error-for="settings.speed"]')
    expect(beside).to_be_visible()
    expect(beside).to_contain_text("speed must be in [0.25, 4.0]")
    expect(speed).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#settings-error")).to_be_focused()  # role=alert: read out
    shoot(page, "voice-settings-out-of-range")
    page.reload()
    expect(form.get_by_label("Speed")).to_have_value("")  # nothing was stored
    speed = form.get_by_label("Speed")
    speed.fill("1.5")
    form.get_by_role("button", name="Save settings").click()
    expect(page.locator("#toast")).to_have_text("Settings saved.")
    expect(form.locator('[data-error-for="settings.speed"]')).to_be_hidden()
