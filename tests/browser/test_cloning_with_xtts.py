"""With a cloning engine present (the tiny random XTTS v2 checkpoint the engine tests
build), a clone goes `processing → ready` while its page is open, then speaks on the
Generate page. A second live server (conftest's `xtts_server`), so the main one keeps
the Piper-only setup."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shoot, sign_up

pytestmark = pytest.mark.browser


def test_a_clone_becomes_ready_while_its_page_is_open_and_then_speaks(xtts_page, xtts_server, speech_wav: Path):
    page = xtts_page
    sign_up(page, xtts_server.url, f"cloner{uuid.uuid4().hex[:6]}")
    page.goto("/voices/new/")
    expect(page.get_by_text("cloning engine is not available")).to_have_count(0)
    page.get_by_label("Name").fill("Tiny clone")
    page.get_by_label("Language").select_option("de")
    page.locator("[data-file-input]").set_input_files(str(speech_wav))
    expect(page.locator("[data-sample-entry=file] [data-meta]")).to_contain_text(" s ·")
    page.get_by_label("I have the speaker's consent.").check()
    page.get_by_role("button", name="Create voice").click()
    page.wait_for_url("**/voices/*/?created=1")
    badge = page.locator("h1 [data-voice-status]")
    first_seen = badge.text_content()
    assert first_seen in ("Processing", "Ready")
    page.evaluate("() => { window.notReloaded = true; }")
    # voice.ready arrives over the websocket: the badge changes without a reload.
    expect(badge).to_have_text("Ready", timeout=90_000)
    assert page.evaluate("() => window.notReloaded === true")
    link = page.get_by_role("link", name="Generate with this voice")
    expect(link).to_be_visible()
    shoot(page, "voice-detail-ready")

    link.click()
    expect(page.get_by_label("Voice", exact=True).locator("option:checked")).to_have_text("Tiny clone")
    # A clone speaks every language of the cloning engine; its own is preselected.
    expect(page.get_by_label("Language")).to_have_value("de")
    assert page.get_by_label("Language").locator("option").count() >= 17
    page.get_by_label("Language").select_option("en")
    page.get_by_label("Text to speak").fill("Hi.")
    expect(page.locator("[data-sampling]")).to_have_attribute("open", "")  # opened for a clone
    page.get_by_label("Seed").fill("7")
    page.get_by_role("button", name="Generate", exact=True).click()
    card = page.locator("[data-job-card]")
    expect(card.locator("[data-job-badge]")).to_have_text("Completed", timeout=90_000)
    expect(card).to_have_attribute("data-ready", "true")
    shoot(page, "generate-with-clone")
