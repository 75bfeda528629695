"""The Pronunciation page in a browser: a dictionary made, an alias and a phoneme rule
added, one removed, the dictionary made the default, and a text heard without rules and
with the dictionary (the alias makes it longer); a bad rule's error stands next to its
field; everything by keyboard too, and on a phone with no sideways scroll."""

from __future__ import annotations

import struct
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shoot
from tests.browser.test_accessibility import violations

pytestmark = pytest.mark.browser


def _duration(page, which: str) -> float:
    """The length of what a player was given, once it has a source and knows it."""
    audio = page.locator(f'[data-hear-audio="{which}"]')
    audio.evaluate(
        """a => new Promise((done) => {
          const ready = () => a.src.startsWith("blob:") && Number.isFinite(a.duration) && a.duration > 0;
          if (ready()) return done();
          const poll = setInterval(() => { if (ready()) { clearInterval(poll); done(); } }, 50);
        })"""
    )
    return audio.evaluate("a => a.duration")


def _wav_seconds(data: bytes) -> float:
    """A streamed WAV's length (its header cannot know the size: it counts what came)."""
    rate, _, block = struct.unpack_from("<IIH", data, 24)
    return (len(data) - (data.index(b"data") + 8)) / block / rate


def _card(page, name: str):
    return page.locator("section[data-dictionary]", has=page.get_by_role("heading", name=name))


def test_a_dictionary_is_made_edited_made_default_and_heard(session):
    name = f"Product names {uuid.uuid4().hex[:4]}"
    page = session.new_page()
    page.goto("/")
    page.get_by_role("navigation").get_by_role("link", name="Pronunciation").first.click()
    page.wait_for_url("**/pronunciation/")
    expect(page.locator("html[data-ready=true]")).to_have_count(1)

    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("button", name="Create").click()
    card = _card(page, name)
    expect(card).to_contain_text("No rules yet.")

    card.get_by_label("Written").fill("TTS")
    card.get_by_label("Said").fill("text to speech")
    card.get_by_role("button", name="Add rule").click()
    card = _card(page, name)
    expect(card.locator("tbody")).to_contain_text("text to speech")

    card.get_by_label("Written").fill("Speaker")
    card.get_by_label("Say it as").select_option("cmu-arpabet")
    card.get_by_label("Said").fill("S P IY1 K ER0")
    card.get_by_role("button", name="Add rule").click()
    card = _card(page, name)
    expect(card.locator("tbody tr")).to_have_count(2)
    expect(card.locator("tbody tr", has_text="Speaker")).to_contain_text("S P IY1 K ER0 (cmu-arpabet)")
    expect(card).to_contain_text("version 3")

    card.get_by_role("button", name="Remove the rule for Speaker").click()
    card = _card(page, name)
    expect(card.locator("tbody tr")).to_have_count(1)
    expect(card).to_contain_text("version 4")

    card.get_by_role("button", name="Make default").click()
    card = _card(page, name)
    expect(card.locator(".badge", has_text="default")).to_be_visible()
    listed = session.api(page, "GET", "/api/v1/pronunciation-dictionaries").json()
    mine = next(d for d in listed if d["name"] == name)
    assert mine["is_default"] and [r["string_to_replace"] for r in mine["rules"]] == ["TTS"]
    shoot(page, "pronunciation-edited")

    # Heard both ways: two players, each with its own audio; the alias says three words
    # for each "TTS". Piper's timing varies from run to run (its noise, some 0.1-0.3 s
    # here): six of them make the difference (about 0.9 s) stand clear of it.
    page.get_by_label("Text").fill("TTS, TTS, TTS and TTS. TTS and TTS.")
    expect(page.get_by_label("Dictionary", exact=True)).to_have_value(mine["id"])
    page.get_by_role("button", name="Without rules").click()
    without = _duration(page, "none")
    page.get_by_role("button", name="With the dictionary").click()
    with_rules = _duration(page, "dictionary")
    assert with_rules > without + 0.3, (without, with_rules)
    # Only the version asked for last plays: the two do not talk over each other.
    assert page.locator('[data-hear-audio="none"]').evaluate("a => a.paused")
    expect(page.locator('[data-hear-result="none"]')).to_be_visible()
    expect(page.locator('[data-hear-result="dictionary"]')).to_be_visible()
    shoot(page, "pronunciation-heard")
    found = violations(page)  # with both players showing
    assert not found, "\n".join(found)
    session.api(page, "DELETE", f"/api/v1/pronunciation-dictionaries/{mine['id']}")


def test_a_bad_rule_is_refused_next_to_its_field(session):
    page = session.new_page()
    made = session.api(page, "POST", "/api/v1/pronunciation-dictionaries", data={"name": "Errors", "rules": []})
    assert made.status == 201, made.text()
    page.goto("/pronunciation/")
    card = _card(page, "Errors")

    card.get_by_label("Said").fill("nothing")
    card.get_by_role("button", name="Add rule").click()
    grapheme_error = card.locator("[data-error-for=string_to_replace]")
    expect(grapheme_error).to_contain_text("may not be empty")
    expect(card.get_by_label("Written")).to_have_attribute("aria-invalid", "true")
    expect(card.locator("[data-dictionary-error]")).to_contain_text("The rule was not added")

    # An alphabet the page no longer offers (a stale page): the server's words, on the select.
    card.get_by_label("Say it as").evaluate("select => select.append(new Option('phonemes (klingon)', 'klingon'))")
    card.get_by_label("Written").fill("Qapla")
    expect(grapheme_error).to_be_hidden()
    card.get_by_label("Say it as").select_option("klingon")
    card.get_by_role("button", name="Add rule").click()
    expect(card.locator("[data-error-for=kind]")).to_contain_text("Unknown phonetic alphabet")
    expect(card.get_by_label("Say it as")).to_have_attribute("aria-invalid", "true")
    expect(card.locator("tbody tr")).to_have_count(0)
    shoot(page, "pronunciation-rule-errors")
    found = violations(page)  # with the messages showing
    assert not found, "\n".join(found)
    session.api(page, "DELETE", f"/api/v1/pronunciation-dictionaries/{made.json()['id']}")


def test_the_page_works_by_keyboard_and_fits_a_phone(session):
    name = f"Keys {uuid.uuid4().hex[:4]}"
    page = session.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/pronunciation/")
    expect(page.locator("html[data-ready=true]")).to_have_count(1)

    page.get_by_label("Name", exact=True).focus()
    page.keyboard.type(name)
    page.keyboard.press("Enter")
    card = _card(page, name)
    expect(card).to_be_visible()

    card.get_by_label("Written").focus()
    page.keyboard.type("TTS")
    page.keyboard.press("Tab")
    expect(card.get_by_label("Say it as")).to_be_focused()
    page.keyboard.press("Tab")
    expect(card.get_by_label("Said")).to_be_focused()
    page.keyboard.type("text to speech")
    page.keyboard.press("Enter")
    card = _card(page, name)
    expect(card.locator("tbody")).to_contain_text("text to speech")

    remove = card.get_by_role("button", name="Remove the rule for TTS")
    remove.focus()
    page.keyboard.press("Enter")
    expect(_card(page, name).locator("tbody tr")).to_have_count(0)

    page.get_by_label("Text").focus()
    page.keyboard.press("Enter")  # the form's first button: without rules
    page.wait_for_function("() => document.querySelector('[data-hear-audio=\"none\"]').src.startsWith('blob:')")

    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{overflow}px of sideways scroll at 390 px"
    shoot(page, "pronunciation-phone")
    listed = session.api(page, "GET", "/api/v1/pronunciation-dictionaries").json()
    session.api(
        page, "DELETE", f"/api/v1/pronunciation-dictionaries/{next(d['id'] for d in listed if d['name'] == name)}"
    )
