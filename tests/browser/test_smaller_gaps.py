"""Smaller gaps: a failed sign-in's username in the audit list, jobs and productions in
the admin (read-only, filterable), usage named by key, history's download format, and a
phone's header that leaves the Generate button in reach."""

from __future__ import annotations

import time
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import shoot

pytestmark = pytest.mark.browser


@pytest.fixture
def admin_page(browser, speaker_server, staff_state):
    speaker_server._query("UPDATE accounts_user SET is_superuser = 1 WHERE username = ?", [staff_state["username"]])
    context = browser.new_context(base_url=speaker_server.url, storage_state=staff_state["state"])
    yield context.new_page()
    context.close()


def test_the_admin_names_failed_sign_ins_and_lists_jobs_and_productions_read_only(session, new_visitor, admin_page):
    visitor = new_visitor.new_page()
    visitor.goto("/accounts/login/")
    typed = f"mallory{uuid.uuid4().hex[:4]}"
    visitor.get_by_label("Username").fill(typed)
    visitor.get_by_label("Password").fill("not-the-password")
    visitor.get_by_role("button", name="Log in").click()

    admin_page.goto("/admin/monitoring/auditevent/?outcome__exact=failure")
    expect(admin_page.locator("#result_list")).to_contain_text(typed)

    page = session.new_page()
    page.goto("/")
    job = session.make_job(page, "A job for the admin to list.")
    admin_page.goto("/admin/synthesis/synthesisjob/")
    expect(admin_page.locator("#changelist-filter")).to_contain_text("By status")
    admin_page.goto("/admin/synthesis/synthesisjob/?status__exact=completed")
    expect(admin_page.locator("#result_list")).to_contain_text(session.username)
    admin_page.goto(f"/admin/synthesis/synthesisjob/{job['id']}/change/")
    expect(admin_page.locator("input[type=submit][name=_save]")).to_have_count(0)
    shoot(admin_page, "admin-job-read-only")

    session.api(page, "POST", "/api/v1/productions", data={"text": "Hello.", "voice": "joe", "title": "Admin book"})
    admin_page.goto("/admin/productions/production/")
    expect(admin_page.locator("#result_list")).to_contain_text("Admin book")
    expect(admin_page.locator("#changelist-filter")).to_contain_text("By status")
    expect(admin_page.get_by_role("link", name="Add production")).to_have_count(0)


def test_usage_names_keys_and_history_offers_the_jobs_own_format(session):
    page = session.new_page()
    page.goto("/keys/")
    created = session.api(page, "POST", "/api/v1/keys", data={"name": "nightly-batch", "scopes": ["synthesis:write"]})
    assert created.status == 201, created.text()
    key = created.json()["key"]
    response = page.request.post(
        f"{session.url}/api/v1/synthesis",
        headers={"Authorization": f"Bearer {key}"},
        data={"text": "Made with a named key.", "voice": "joe", "format": "mp3"},
    )
    assert response.status == 202, response.text()
    job_id = response.json()["id"]
    deadline = time.monotonic() + 60
    while session.api(page, "GET", f"/api/v1/synthesis/{job_id}").json()["status"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    page.goto("/usage/")
    expect(page.locator("main")).to_contain_text("nightly-batch")

    page.goto("/history/")
    row = page.locator(f"tr:has(select#fmt-{job_id})")
    expect(row.locator(f"#fmt-{job_id}")).to_have_value("mp3")


def test_on_a_phone_the_header_is_small_and_generate_is_in_reach(session):
    page = session.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/generate/")
    header = page.locator("header.topbar").bounding_box()
    assert header["height"] <= 100, header
    button = page.get_by_role("button", name="Generate", exact=True)
    expect(button).to_be_enabled()
    box = button.bounding_box()
    assert box["y"] + box["height"] <= 844, box
    page.mouse.wheel(0, 400)
    page.wait_for_timeout(300)
    box = button.bounding_box()
    assert 0 <= box["y"] and box["y"] + box["height"] <= 844, box
    shoot(page, "generate-phone")
