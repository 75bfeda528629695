"""The "Blend voices" form. With XTTS (the tiny checkpoint's two built-in speakers) a
blend is made from the form and its page says where it came from; every refusal is said
next to the field it concerns, read out, at a desktop's and a phone's size. Without XTTS
in the web process the page says so instead of offering a form that cannot work."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shoot, sign_up
from tests.browser.test_accessibility import violations

pytestmark = pytest.mark.browser

VOICE_PAGE = re.compile(r"/voices/[0-9a-f-]{36}/$")


def source(page: Any, row: int) -> tuple[Any, Any]:
    return page.get_by_label(f"Voice {row}", exact=False).first, page.get_by_label(f"Weight of voice {row}")


def fill_blend(page: Any, name: str, *sources: tuple[str, str]) -> None:
    page.get_by_label("Name").fill(name)
    for row in range(1, 5):
        voice, weight = source(page, row)
        picked = sources[row - 1] if row <= len(sources) else ("", "1")
        if picked[0]:
            voice.select_option(label=picked[0])
        else:
            voice.select_option(index=0)
        weight.fill(picked[1])


def error_for(page: Any, field: str) -> Any:
    return page.locator(f'[data-blend-form] [data-error-for="{field}"]')


def submit(page: Any) -> None:
    page.get_by_role("button", name="Create blended voice").click()


def test_a_blend_is_made_from_the_form_and_its_page_names_its_sources(xtts_page, xtts_server) -> None:
    page = xtts_page
    sign_up(page, xtts_server.url, f"blender{uuid.uuid4().hex[:6]}")
    page.goto("/voices/")
    page.get_by_role("link", name="Blend voices").click()
    page.wait_for_url("**/voices/blend/")
    expect(page.locator("[data-blend-unavailable]")).to_have_count(0)

    fill_blend(page, "Duet", ("Tiny Alice", "3"), ("Tiny Bob", "1"))
    expect(page.locator("#source-0-share")).to_have_text("75% of the blend")
    expect(page.locator("#source-1-share")).to_have_text("25% of the blend")
    submit(page)

    page.wait_for_url(VOICE_PAGE)
    expect(page.locator("h1 [data-voice-name]")).to_have_text("Duet")
    expect(page.locator("h1 [data-voice-status]")).to_have_text("Ready")
    sources = page.locator("[data-blend-source]")
    expect(sources).to_have_count(2)
    expect(sources.nth(0)).to_contain_text("Tiny Alice")
    expect(sources.nth(0).locator("[data-blend-weight]")).to_have_text("75%")
    expect(sources.nth(1).locator("[data-blend-weight]")).to_have_text("25%")
    shoot(page, "blended-voice-page")

    # The blend itself may be a source: its page links to the form with it preselected.
    page.get_by_role("link", name="Blend with other voices").click()
    expect(source(page, 1)[0].locator("option:checked")).to_have_text("Duet (en)")


def test_each_refusal_is_shown_next_to_its_field(xtts_page, xtts_server) -> None:
    page = xtts_page
    sign_up(page, xtts_server.url, f"refused{uuid.uuid4().hex[:6]}")
    page.goto("/voices/blend/")
    box = page.locator("#blend-error")

    fill_blend(page, "", ("Tiny Alice", "1"), ("Tiny Bob", "1"))
    submit(page)
    expect(error_for(page, "name")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    expect(box).to_be_focused()

    fill_blend(page, "Odd", ("Tiny Alice", "1"), ("Tiny Bob", "-1"))
    submit(page)
    expect(error_for(page, "sources.1.weight")).to_contain_text("greater than or equal to 0")
    expect(page.get_by_label("Weight of voice 2")).to_have_attribute("aria-invalid", "true")
    expect(error_for(page, "sources.0.weight")).to_be_hidden()

    fill_blend(page, "Silent", ("Tiny Alice", "0"), ("Tiny Bob", "0"))
    submit(page)
    expect(error_for(page, "sources")).to_contain_text("all weights are 0")

    # A row left empty is skipped; the error still lands on the row the user filled.
    fill_blend(page, "Alone", ("", "1"), ("Tiny Bob", "1"))
    submit(page)
    expect(error_for(page, "sources")).to_contain_text("at least 2")

    fill_blend(page, "Twice", ("Tiny Alice", "1"), ("", "1"), ("Tiny Alice", "1"))
    submit(page)
    expect(error_for(page, "sources.2.voice")).to_contain_text("each source once")
    expect(error_for(page, "sources.0.voice")).to_be_hidden()
    shoot(page, "blend-form-refused")
    # Never more than four sources: the form has four rows and no way to add a fifth.
    expect(page.locator("[data-blend-row]")).to_have_count(4)

    fill_blend(page, "Pair", ("Tiny Alice", "1"), ("Tiny Bob", "1"))
    submit(page)
    page.wait_for_url(VOICE_PAGE)
    pair_id = page.url.rstrip("/").rsplit("/", 1)[-1]

    page.goto("/voices/blend/")
    fill_blend(page, "pair", ("Tiny Alice", "1"), ("Tiny Bob", "1"))
    submit(page)
    expect(error_for(page, "name")).to_contain_text("unique")

    # Pair stops being ready after the form was shown (as when it is prepared again).
    fill_blend(page, "Trio", ("Pair (en)", "1"), ("Tiny Bob", "1"))
    xtts_server._query("UPDATE voices_voice SET status = 'processing' WHERE id = ?", [pair_id.replace("-", "")])
    submit(page)
    expect(error_for(page, "sources.0.voice")).to_be_visible()
    expect(error_for(page, "sources.0.voice")).to_contain_text("Pair")
    expect(page.get_by_label("Voice 1", exact=False).first).to_have_attribute("aria-invalid", "true")


@pytest.mark.parametrize(
    "size", [{"width": 1280, "height": 800}, {"width": 390, "height": 844}], ids=["desktop", "phone"]
)
def test_the_form_and_its_errors_are_accessible_at_every_size(browser, xtts_server, size) -> None:
    context = browser.new_context(base_url=xtts_server.url, viewport=size)
    page = context.new_page()
    sign_up(page, xtts_server.url, f"axe{uuid.uuid4().hex[:6]}")
    page.goto("/voices/blend/")
    # Keyboard only: name, then the first voice, then its weight.
    page.get_by_label("Name").focus()
    page.keyboard.type("Keys")
    page.keyboard.press("Tab")
    expect(source(page, 1)[0]).to_be_focused()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    expect(source(page, 1)[1]).to_be_focused()
    page.keyboard.press("Enter")  # one source: refused
    expect(error_for(page, "sources")).to_be_visible()
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    found = violations(page)
    shoot(page, f"blend-form-errors-{size['width']}")
    context.close()
    assert not found, "\n".join(found)


def test_without_xtts_the_page_says_so_instead_of_offering_the_form(session) -> None:
    page = session.new_page()
    page.goto("/voices/blend/")

    expect(page.locator("[data-blend-unavailable]")).to_contain_text("needs the XTTS engine, which is not installed")
    expect(page.locator("[data-blend-form]")).to_have_count(0)
    shoot(page, "blend-without-xtts")
