"""History: filter, play, download in any format, delete one and several, pages."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shoot

pytestmark = pytest.mark.browser


def test_history_finds_plays_downloads_and_deletes_jobs(session):
    page = session.new_page()
    page.goto("/history/")
    marker = uuid.uuid4().hex[:6]
    jobs = [session.make_job(page, f"History check {marker} number {n}. It is short.") for n in range(3)]
    assert all(job["status"] == "completed" for job in jobs)

    page.goto("/history/")
    shoot(page, "history")
    page.get_by_label("Text contains").fill(marker)
    page.get_by_label("Status").select_option("completed")
    page.get_by_label("Voice").select_option("joe")
    page.get_by_role("button", name="Apply filters").click()
    rows = page.locator("[data-job-row]")
    expect(rows).to_have_count(3)
    expect(page.get_by_role("heading", name="3 jobs matching")).to_be_visible()
    expect(page.get_by_label("Text contains")).to_have_value(marker)

    # Pages: two per page here.
    page.goto(f"/history/?q={marker}&page_size=2")
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    expect(rows).to_have_count(2)
    page.get_by_role("link", name="Next ›").click()
    expect(page.get_by_text("Page 2 of 2")).to_be_visible()
    expect(rows).to_have_count(1)
    expect(page).to_have_url(f"{session.url}/history/?q={marker}&page_size=2&page=2")
    page.get_by_role("link", name="« First").click()
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    page.goto(f"/history/?q={marker}")
    expect(rows).to_have_count(3)

    # Play in place.
    first = rows.first
    first.get_by_role("button", name="Play audio").click()
    player = first.locator("audio")
    expect(player).to_be_visible()
    page.wait_for_function(
        "() => document.querySelector('tr audio') && document.querySelector('tr audio').currentTime > 0.1"
    )

    # Download in another format.
    job_id = first.get_attribute("data-job-row")
    first.get_by_label("Format").select_option("ogg")
    with page.expect_download() as download_info:
        first.get_by_role("button", name="Download audio").click()
    assert download_info.value.suggested_filename == f"speaker-{job_id}.ogg"
    with page.expect_download() as download_info:
        first.get_by_label("Format").select_option("flac")
        first.get_by_role("button", name="Download audio").click()
    assert download_info.value.suggested_filename.endswith(".flac")

    # Delete one, with confirmation.
    first.get_by_role("button", name="Delete job").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete job").click()
    expect(rows).to_have_count(2)
    assert session.api(page, "GET", f"/api/v1/synthesis/{job_id}").status == 404

    # Delete the rest in bulk.
    page.get_by_label("Select all jobs on this page").check()
    expect(page.locator("[data-selected-count]")).to_have_text("2 selected")
    page.get_by_role("button", name="Delete selected").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete 2").click()
    expect(page.locator("#toast")).to_contain_text("Deleted 2 jobs")
    expect(page.get_by_text("No jobs match these filters.")).to_be_visible()
    shoot(page, "history-after-delete")

    # A bad date filter is explained, not a crash.
    page.goto("/history/?from=yesterday")
    expect(page.get_by_role("alert").first).to_contain_text("from must be an ISO date")
