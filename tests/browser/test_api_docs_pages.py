"""The API docs pages, in a real browser: they load nothing from the internet, break no
Content-Security-Policy rule, and render the API."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser


def open_page(browser: Any, url: str, ready: str) -> tuple[list[str], list[str]]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(30_000)
    elsewhere: list[str] = []
    errors: list[str] = []
    page.on(
        "request",
        lambda request: urlsplit(request.url).hostname not in ("127.0.0.1", None) and elsewhere.append(request.url),
    )
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.goto(url)
    page.wait_for_selector(ready)
    page.wait_for_load_state("networkidle")
    context.close()
    return elsewhere, errors


def test_redoc_renders_from_this_host_alone_with_no_csp_errors(browser, speaker_server):
    elsewhere, errors = open_page(browser, f"{speaker_server.url}/redoc", "h1:has-text('Speaker API')")
    assert elsewhere == []
    assert errors == []


def test_swagger_ui_renders_from_this_host_alone_with_no_csp_errors(browser, speaker_server):
    elsewhere, errors = open_page(browser, f"{speaker_server.url}/docs", ".opblock")
    assert elsewhere == []
    assert errors == []
