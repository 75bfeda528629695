"""The Productions pages, finished: fields styled like the rest, numbers with thousands
separators, chapters by title, downloads named after the production, word while a
download is put together, and segment cards on the phone that say what each field is."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shoot

pytestmark = pytest.mark.browser

TEXT = "An intro before any heading.\n\n# Chapter One\nThe first chapter.\n\n# Chapter Two\nThe second chapter."


def completed_production(session, page, title: str) -> dict:
    production = session.api(
        page, "POST", "/api/v1/productions", data={"text": TEXT, "voice": "joe", "title": title}
    ).json()
    deadline = time.monotonic() + 90
    while production["status"] != "completed":
        assert time.monotonic() < deadline, production
        time.sleep(0.5)
        production = session.api(page, "GET", f"/api/v1/productions/{production['id']}").json()
    return production


def test_the_form_looks_like_the_others_and_numbers_read_easily(session):
    page = session.new_page()
    page.goto("/productions/")
    title, text = page.get_by_label("Title"), page.get_by_label("Text")
    style = (
        "(e) => [getComputedStyle(e).borderTopStyle, getComputedStyle(e).borderRadius, getComputedStyle(e).paddingLeft]"
    )
    assert title.evaluate(style) == text.evaluate(style)
    assert page.locator("#p-file").evaluate("(e) => getComputedStyle(e).borderTopStyle") != "none"
    expect(page.locator("main")).to_contain_text("Up to 500,000 characters")


def test_chapters_downloads_and_phone_cards(session):
    page = session.new_page()
    page.goto("/productions/")
    production = completed_production(session, page, "The Mill at Dawn")
    page.goto(f"/productions/{production['id']}/")
    chapters = page.locator("[data-chapters] li")
    expect(chapters).to_have_count(3)
    expect(chapters.nth(1)).to_contain_text("Chapter One")
    expect(chapters.nth(1)).not_to_contain_text("2.")
    expect(page.locator("tr[data-segment] td[data-label=Chapter]").nth(1)).to_have_text("Chapter One")

    link = page.locator("[data-downloads] p [data-download=m4b]")
    with page.expect_download() as download:
        status = link.evaluate(
            "(a) => { a.click(); return document.querySelector('[data-download-status]').textContent; }"
        )
    assert status.startswith("Preparing the m4b file")
    assert download.value.suggested_filename == "the-mill-at-dawn.m4b"
    expect(page.locator("[data-download-status]")).to_have_text("Downloaded the-mill-at-dawn.m4b.")
    with page.expect_download() as download:
        chapters.nth(1).get_by_role("link", name="Chapter One as mp3").click()
    assert download.value.suggested_filename == "the-mill-at-dawn-02-chapter-one.mp3"
    shoot(page, "production-finished-desktop")

    page.set_viewport_size({"width": 390, "height": 844})
    card = page.locator("tr[data-segment]").nth(1)
    labels = [c.evaluate("(e) => getComputedStyle(e, '::before').content") for c in card.locator("td").all()]
    assert labels[:3] == ['"Segment"', '"Chapter"', '"Voice"'], labels
    assert card.get_by_role("textbox").evaluate("(e) => getComputedStyle(e).textAlign") in ("left", "start")
    assert card.locator("audio").bounding_box()["width"] >= 250  # wide enough for a seek bar
    shoot(page, "production-finished-phone")
