"""The "Your data" page: download my data (the zip the workers build, with my history and
its audio), and erase my account (the password asked again, the username typed, a last
confirmation; then nothing of the account is left)."""

from __future__ import annotations

import json
import zipfile

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, Session, shoot, shoot_on_failure, signed_up_state

pytestmark = pytest.mark.browser


def test_my_data_downloads_as_a_zip_with_my_history_and_its_audio(session, tmp_path):
    page = session.new_page()
    job = session.make_job(page, "A sentence that my export keeps.")
    assert job["status"] == "completed", job
    page.goto("/account/data/")
    shoot(page, "your-data")

    page.get_by_label("Include the audio of my history").check()
    page.get_by_role("button", name="Download my data").click()
    link = page.get_by_role("link", name="Download zip").first
    expect(link).to_be_visible(timeout=30_000)
    shoot(page, "your-data-export-ready")
    with page.expect_download() as download:
        link.click()
    path = tmp_path / "export.zip"
    download.value.save_as(path)

    archive = zipfile.ZipFile(path)
    assert json.loads(archive.read("profile.json"))["username"] == session.username
    history = {row["text"]: row for row in json.loads(archive.read("history.json"))}
    audio = history["A sentence that my export keeps."]["audio_file"]
    assert audio and archive.read(audio)[:4] == b"RIFF"


def test_erasing_my_account_asks_who_i_am_and_leaves_nothing(browser, speaker_server, request):
    state = signed_up_state(browser, speaker_server, "leaver")
    username = state["username"]
    context = browser.new_context(base_url=speaker_server.url, storage_state=state["state"])
    try:
        leaver = Session(speaker_server, context, username)
        page = leaver.new_page()
        assert leaver.make_job(page, "Words that must not outlive me.")["status"] == "completed"
        ((user_id,),) = speaker_server._query("SELECT id FROM accounts_user WHERE username = ?", [username])
        jobs_folder = speaker_server.workdir / "media" / "jobs" / str(user_id)
        assert any(jobs_folder.iterdir())
        page.goto("/account/data/")
        form = page.locator("[data-erase-form]")

        # A wrong password: refused, said next to the field, nothing erased.
        page.get_by_label("Your password").fill("not-my-password")
        page.get_by_label("Type your username").fill(username)
        form.get_by_role("button", name="Erase my account").click()
        page.get_by_role("button", name="Erase everything").click()
        expect(page.locator("#erase-error")).to_contain_text("Enter your current password")
        expect(page.locator("[data-error-for=password]")).to_contain_text("not this account's")
        assert speaker_server._query("SELECT count(*) FROM accounts_user WHERE username = ?", [username]) == [(1,)]

        # Changing one's mind at the last step erases nothing either.
        page.get_by_label("Your password").fill(PASSWORD)
        form.get_by_role("button", name="Erase my account").click()
        page.get_by_role("button", name="Cancel").click()
        assert speaker_server._query("SELECT count(*) FROM accounts_user WHERE username = ?", [username]) == [(1,)]

        form.get_by_role("button", name="Erase my account").click()
        shoot(page, "your-data-erase-confirm")
        page.get_by_role("button", name="Erase everything").click()
        page.wait_for_url("**/accounts/login/**")
        shoot(page, "your-data-erased")

        assert speaker_server._query("SELECT count(*) FROM accounts_user WHERE username = ?", [username]) == [(0,)]
        assert not jobs_folder.exists()
        assert speaker_server._query("SELECT count(*) FROM synthesis_synthesisjob WHERE owner_id = ?", [user_id]) == [
            (0,)
        ]
        erased = speaker_server._query(
            "SELECT target_type, username, details FROM monitoring_auditevent WHERE action = 'account.erased'"
        )
        assert ("user", "", '{"by": "self"}') in erased
        page.goto("/account/data/")
        page.wait_for_url("**/accounts/login/**")  # signed out: the session went with the account
        assert not leaver.problems, leaver.problems
    finally:
        shoot_on_failure(context, request)
