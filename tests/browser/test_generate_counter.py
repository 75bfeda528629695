"""The character counter under the text shows one count: the characters spoken and
billed, which is also what the length limit counts (emotion tags and runs of spaces are
free), so the page and the server never disagree about "too long"."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from speech.text import count_characters
from tests.browser.conftest import shoot

pytestmark = pytest.mark.browser

LIMIT = 2000  # MAX_TEXT_LENGTH of the test server (the default)


def _text_with_tags(spoken: int) -> str:
    """`spoken` characters of speech, with an emotion tag before every sentence."""
    sentence = "(happy) " + "a" * 38 + ". "  # 40 spoken characters with the joining space
    text = sentence * (spoken // 40 - 1)
    while count_characters(text) < spoken:
        text += "b"
    assert count_characters(text) == spoken, count_characters(text)
    return text


def test_one_count_is_shown_and_tags_do_not_push_a_text_over_the_limit(session):
    page = session.new_page()
    page.goto("/generate/")
    text = _text_with_tags(LIMIT)
    assert len(text) > LIMIT  # the raw text, tags included, is longer than the limit
    page.get_by_label("Text to speak").fill(text)

    counter = page.locator("#gen-counter")
    expect(counter.locator("[data-count-chars]")).to_have_text("2,000")
    expect(counter).to_contain_text("2,000 / 2,000 characters")
    assert len(re.findall(r"[\d,]+ ?/ ?[\d,]+", counter.inner_text())) == 1
    expect(counter.locator("[data-count-limit]")).not_to_have_class(re.compile(r"\bover\b"))
    shoot(page, "generate-counter-at-the-limit")

    with page.expect_response(lambda r: r.url.endswith("/api/v1/synthesis") and r.request.method == "POST") as created:
        page.get_by_role("button", name="Generate", exact=True).click()
    assert created.value.status == 202
    page.locator("[data-job-cancel]").click()


def test_one_character_over_the_limit_is_refused_with_the_same_count_on_both_sides(session):
    page = session.new_page()
    page.goto("/generate/")
    text = _text_with_tags(LIMIT + 1)
    page.get_by_label("Text to speak").fill(text)

    counter = page.locator("#gen-counter")
    expect(counter.locator("[data-count-chars]")).to_have_text("2,001")
    expect(counter.locator("[data-count-limit]")).to_have_class(re.compile(r"\bover\b"))
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator("#generate-error")).to_contain_text("2,001 characters, at most 2,000")

    refused = session.api(page, "POST", "/api/v1/synthesis", data={"text": text, "voice": "joe"})
    assert refused.status == 400
    assert "Text is 2001 characters" in refused.json()["error"]["message"]
