"""Nothing of the server is shown to ordinary users: with cloning off they read that it
is not enabled and whom to ask; staff get the details and the way to the Engines page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import clone_voice, shoot

pytestmark = pytest.mark.browser

PLAIN = "Voice cloning is not enabled on this server yet — ask your administrator."
INTERNALS = ("XTTS_MODEL_DIR", "TTS_ENGINES", "manage.py", "var/models", "checkpoint")


def assert_no_internals(page) -> None:
    text = page.locator("body").inner_text()
    for word in INTERNALS:
        assert word not in text, f"{word!r} shown to a user on {page.url}"


def test_a_user_reads_that_cloning_is_not_enabled_and_never_a_server_path(session, speech_wav):
    page = session.new_page()
    page.goto("/voices/")
    voice = clone_voice(session, page, speech_wav, "Plain words")
    for path in ("/voices/", "/voices/new/", f"/voices/{voice['id']}/"):
        page.goto(path)
        expect(page.locator("main")).to_contain_text(PLAIN)
        expect(page.get_by_role("link", name="Engines")).to_have_count(0)
        assert_no_internals(page)
    shoot(page, "voice-detail-cloning-off-user")


def test_staff_read_the_reason_and_find_the_engines_page(staff_session, speech_wav):
    page = staff_session.new_page()
    page.goto("/voices/")
    clone_voice(staff_session, page, speech_wav, "Staff voice")
    page.goto("/voices/")
    note = page.locator("[data-cloning-note]")
    expect(note).to_contain_text("TTS_ENGINES")  # the reason, as the registry gives it
    note.get_by_role("link", name="Engines page").click()
    expect(page).to_have_url(f"{staff_session.url}/engines/")
