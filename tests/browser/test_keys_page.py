"""API keys: created with a name, scopes and expiry, the secret shown once, revoked."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shoot

pytestmark = pytest.mark.browser


def call_me(base_url: str, key: str) -> int:
    request = urllib.request.Request(f"{base_url}/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_key_is_shown_once_works_and_can_be_revoked(session):
    page = session.new_page()
    page.goto("/keys/")
    shoot(page, "keys-empty")

    # Without a name the form says what is missing.
    page.get_by_role("button", name="Create key").click()
    expect(page.locator("[data-error-for=name]")).to_have_text("A name is required.")

    page.get_by_label("Name").fill("ci-pipeline")
    page.get_by_label("synthesis:write").check()
    page.get_by_label("voices:read").check()
    page.get_by_label("Expires on").fill("2099-12-31")
    page.get_by_role("button", name="Create key").click()

    secret_box = page.locator("[data-secret-box]")
    expect(secret_box).to_be_visible()
    expect(secret_box).to_contain_text("shown only this once")
    secret = page.get_by_label("New API key").input_value()
    assert secret.startswith("spk_")
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("[data-copy-status]")).to_contain_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    row = page.locator("[data-keys-table] tbody tr", has_text="ci-pipeline")
    prefix = secret.split("_")[1]
    expect(row).to_contain_text(f"spk_{prefix}_…")
    expect(row).to_contain_text("synthesis:write")
    expect(row).to_contain_text("voices:read")
    shoot(page, "keys-created")

    assert call_me(session.url, secret) == 200

    # Shown once: after a reload only the prefix is left.
    page.reload()
    expect(page.locator("[data-secret-box]")).to_be_hidden()
    assert secret not in page.content()
    row = page.locator("[data-keys-table] tbody tr", has_text="ci-pipeline")
    expect(row).to_contain_text(f"spk_{prefix}_…")
    expect(row).to_contain_text("31 Dec 2099")
    expect(row.locator('[data-label="Last used"]')).not_to_contain_text("never")

    # Revoking asks first; cancelling keeps the key.
    row.get_by_role("button", name="Revoke key ci-pipeline").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Revoke the key “ci-pipeline”?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert call_me(session.url, secret) == 200

    row.get_by_role("button", name="Revoke key ci-pipeline").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke key").click()
    expect(row).to_contain_text("revoked")
    expect(row.get_by_role("button", name="Revoke key ci-pipeline")).to_have_count(0)
    shoot(page, "keys-revoked")
    assert call_me(session.url, secret) == 401

    # A revoked key can be taken off the list; it stays revoked, and stays off after a reload.
    row.get_by_role("button", name="Remove revoked key ci-pipeline from the list").click()
    expect(row).to_have_count(0)
    expect(page.locator("[data-keys-empty]")).to_be_visible()
    page.reload()
    expect(page.locator("[data-keys-table] tbody tr", has_text="ci-pipeline")).to_have_count(0)
    assert call_me(session.url, secret) == 401
