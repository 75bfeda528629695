"""Every dashboard page, at a desktop's 1280×800 and a phone's 390×844, checked by
axe-core inside Chromium (axe-playwright-python bundles it): no serious or critical
violation. A screenshot of each page at each size is kept for a person to look at."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import clone_voice, shoot

pytestmark = pytest.mark.browser

SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
AXE = Axe()


def violations(page: Any) -> list[str]:
    results = AXE.run(page)
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] not in ("serious", "critical"):
            continue
        targets = "; ".join(", ".join(node["target"]) for node in violation["nodes"][:5])
        found.append(f"{page.url} {violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return found


def check_pages(browser, server, state, paths: list[str], label: str) -> list[str]:
    found: list[str] = []
    for size, viewport in SIZES.items():
        context = browser.new_context(base_url=server.url, storage_state=state, viewport=viewport)
        page = context.new_page()
        for path in paths:
            page.goto(path)
            page.wait_for_load_state("networkidle")
            expect(page.locator("main")).to_be_visible()
            found += violations(page)
            shoot(page, f"a11y-{label}-{size}-{path.strip('/').replace('/', '-')[:40] or 'home'}")
        context.close()
    return found


def test_every_dashboard_page_has_no_serious_accessibility_violation(
    browser, speaker_server, session, signed_in_state, staff_state, speech_wav
):
    page = session.new_page()
    page.goto("/")
    session.make_job(page, "Hello from the accessibility check.")
    voice = clone_voice(session, page, speech_wav, "Axe voice")
    production = session.api(
        page,
        "POST",
        "/api/v1/productions",
        data={"text": "# One\nA short chapter.\n\n# Two\nAnother one.", "voice": "joe", "title": "Axe book"},
    ).json()
    # A dictionary with both kinds of rule, so the page shows its table and its forms.
    rules = [
        {"string_to_replace": "TTS", "type": "alias", "alias": "text to speech"},
        {"string_to_replace": "Speaker", "type": "phoneme", "phoneme": "S P IY1 K ER0", "alphabet": "cmu-arpabet"},
    ]
    made = session.api(page, "POST", "/api/v1/pronunciation-dictionaries", data={"name": "Axe names", "rules": rules})
    assert made.status == 201, made.text()
    builtin = session.api(page, "GET", "/api/v1/voices").json()
    builtin_id = next(v["id"] for v in builtin["results"] if v["name"] == "joe") if isinstance(builtin, dict) else ""
    user_pages = [
        "/",
        "/generate/",
        "/voices/",
        "/voices/new/",
        "/voices/blend/",  # without XTTS here: the page that says so (test_blend_form checks the form)
        f"/voices/{voice['id']}/",
        f"/voices/{builtin_id}/",
        "/history/",
        "/productions/",
        f"/productions/{production['id']}/",
        "/pronunciation/",
        "/keys/",
        "/usage/",
        "/cloning-attestation/",
        "/account/data/",
        "/accounts/password/change/",
        "/accounts/email/",
        "/accounts/2fa/",
    ]
    found = check_pages(browser, speaker_server, signed_in_state["state"], user_pages, "user")
    staff_pages = ["/engines/", "/accounts/invitations/"]
    found += check_pages(browser, speaker_server, staff_state["state"], staff_pages, "staff")
    visitor_pages = ["/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"]
    found += check_pages(browser, speaker_server, None, visitor_pages, "visitor")
    assert not found, "\n".join(found)


def contrast(page: Any, foreground: str, background: str) -> float:
    """WCAG contrast of two CSS colours, computed in the page."""
    return page.evaluate(
        """([a, b]) => {
          const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
          const linear = (x) => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
          const lum = (c) => { const v = rgb(c).map(linear);
                               return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
          const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
          return (hi + 0.05) / (lo + 0.05);
        }""",
        [foreground, background],
    )


def test_the_focus_ring_and_the_attestation_states_can_be_told_apart(session):
    page = session.new_page()
    page.goto("/cloning-attestation/")
    none = page.locator("[data-attestation-state=none]")
    none_style = none.evaluate("(e) => getComputedStyle(e).backgroundColor")
    page.get_by_label("I accept this statement").check()
    page.keyboard.press("Tab")  # to "Accept", by keyboard: its focus ring shows
    expect(page.get_by_role("button", name="Accept")).to_be_focused()
    ring = page.evaluate("() => getComputedStyle(document.activeElement).outlineColor")
    assert contrast(page, ring, "rgb(255, 255, 255)") >= 3, ring
    assert contrast(page, ring, "rgb(245, 246, 250)") >= 3, ring
    page.keyboard.press("Enter")
    accepted = page.locator("[data-attestation-state=accepted]")
    expect(accepted).to_be_visible()
    accepted_style = accepted.evaluate("(e) => getComputedStyle(e).backgroundColor")
    assert accepted_style != none_style
    assert accepted_style not in ("rgba(0, 0, 0, 0)", "transparent")
    shoot(page, "attestation-accepted")
    page.get_by_role("button", name="Withdraw the attestation").click()
