"""Form messages for people: plain words, on the field they concern, voices by name
(never an id), and a way forward when a text is too long for Generate."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import clone_voice, shoot

pytestmark = pytest.mark.browser

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def test_production_form_messages_are_plain_and_on_the_right_field(session, speech_wav):
    page = session.new_page()
    page.goto("/productions/")
    clone_voice(session, page, speech_wav, "Waiting Wendy")
    page.reload()
    form = page.locator("[data-production-form]")
    create = page.get_by_role("button", name="Create production")

    # Nothing to read.
    create.click()
    expect(form.locator("[data-form-error]")).to_have_text("Some things need your attention.")
    expect(form.locator("[data-error-for=text]")).to_have_text("Paste the text to read, or choose a file below.")
    expect(form).not_to_contain_text("`text`")

    # A marker naming a voice that is waiting for the cloning engine: by name, on the text.
    page.get_by_label("Text").fill("# One\nHello there. [voice: Waiting Wendy] And hello from me.")
    create.click()
    expect(form.locator("[data-error-for=text]")).to_contain_text("“Waiting Wendy” cannot speak yet")
    expect(form.locator("[data-error-for=voice]")).to_be_hidden()
    assert not UUID.search(form.inner_text()), form.inner_text()
    shoot(page, "productions-form-voice-waiting")

    # A typo in a marker: the suggestion on the text field, no extra list in the box.
    page.get_by_label("Text").fill("# One\nHello there. [voice: jeo] And hello from me.")
    create.click()
    expect(form.locator("[data-error-for=text]")).to_contain_text("There is no voice named 'jeo'. Did you mean 'joe'?")
    expect(form.locator("[data-form-error] li")).to_have_count(0)
    expect(form.locator("[data-error-for=voice]")).to_be_hidden()


def test_a_text_too_long_for_generate_points_to_productions(session):
    page = session.new_page()
    page.goto("/generate/")
    expect(page.locator("main")).not_to_contain_text("Best for long texts")
    long_text = "A calm sentence to read aloud. " * 200
    page.locator("#gen-text").fill(long_text)
    page.get_by_role("button", name="Generate").last.click()
    slot = page.locator("[data-error-for=text]")
    expect(slot).to_contain_text("make it a production")
    slot.get_by_role("link", name="Make it a production").click()
    page.wait_for_url("**/productions/")
    assert page.get_by_label("Text").input_value() == long_text
