"""Webhooks in the dashboard: an endpoint added with its secret shown once, a test event
in its delivery log, the secret rotated, the endpoint deleted after asking."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shoot
from tests.browser.test_accessibility import check_pages

pytestmark = pytest.mark.browser
URL = "https://hooks.example.com/speaker"


def test_an_endpoint_is_added_tested_rotated_and_deleted(session):
    page = session.new_page()
    page.goto("/webhooks/")
    shoot(page, "webhooks-empty")

    # A URL with credentials is refused on its field, in the API's words.
    page.get_by_label("URL").fill("https://user:pw@hooks.example.com/x")
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.locator("[data-error-for=url]")).to_contain_text("credentials")

    page.get_by_label("URL").fill(URL)
    page.get_by_label("job.failed").check()
    page.get_by_role("button", name="Add endpoint").click()
    secret_box = page.locator("[data-secret-box]")
    expect(secret_box).to_be_visible()
    expect(secret_box).to_contain_text("shown only this once")
    expect(page.get_by_label("New signing secret")).not_to_have_value("")
    secret = page.get_by_label("New signing secret").input_value()
    assert secret.startswith("whsec_")
    shoot(page, "webhooks-secret")
    page.get_by_role("button", name="I have stored it, hide it").click()

    row = page.locator("[data-webhooks-table] tbody tr", has_text=URL)
    expect(row).to_contain_text("job.completed")
    expect(row).to_contain_text("job.failed")
    assert secret not in page.content()

    row.get_by_role("button", name=f"Send a test event to {URL}").click()
    expect(page.locator("#toast")).to_contain_text("Test event queued")
    row.get_by_role("link").click()
    expect(page.locator("[data-deliveries-table]")).to_contain_text("webhook.test")
    shoot(page, "webhooks-log")

    page.go_back()
    row = page.locator("[data-webhooks-table] tbody tr", has_text=URL)
    row.get_by_role("button", name=f"Rotate the secret of {URL}").click()
    page.get_by_role("dialog").get_by_role("button", name="Rotate secret").click()
    rotated = page.get_by_label("New signing secret")
    expect(rotated).not_to_have_value("")
    assert rotated.input_value().startswith("whsec_") and rotated.input_value() != secret
    page.get_by_role("button", name="I have stored it, hide it").click()

    row = page.locator("[data-webhooks-table] tbody tr", has_text=URL)
    row.get_by_role("button", name=f"Delete {URL}").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete endpoint").click()
    expect(page.locator("[data-webhooks-table] tbody tr", has_text=URL)).to_have_count(0)


def test_the_webhooks_pages_have_no_serious_accessibility_violation(session, browser, speaker_server, signed_in_state):
    page = session.new_page()
    endpoint = session.api(page, "POST", "/api/v1/webhooks", data={"url": URL, "events": ["job.completed"]}).json()
    session.api(page, "POST", f"/api/v1/webhooks/{endpoint['id']}/test")
    paths = ["/webhooks/", f"/webhooks/{endpoint['id']}/"]
    found = check_pages(browser, speaker_server, signed_in_state["state"], paths, "user")
    session.api(page, "DELETE", f"/api/v1/webhooks/{endpoint['id']}")
    assert not found, "\n".join(found)
