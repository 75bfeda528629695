"""The clone form's samples: a file the browser cannot decode is flagged on its row before
anything is uploaded, and a sample the server refuses is marked on its own row while the
other samples stay in the form, ready to send again."""

from __future__ import annotations

import io
import re
import uuid

import numpy as np
import pytest
import soundfile as sf
from playwright.sync_api import expect

from tests.browser.conftest import shoot

pytestmark = pytest.mark.browser


def _silence_wav(seconds: float = 6.0, rate: int = 22050) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(int(seconds * rate), dtype=np.float32), rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _file(name: str, data: bytes) -> dict:
    return {"name": name, "mimeType": "audio/wav", "buffer": data}


def test_a_file_the_browser_cannot_decode_is_flagged_before_anything_is_uploaded(session, speech_wav):
    page = session.new_page()
    page.goto("/voices/new/")
    uploads = []
    page.on("request", lambda request: uploads.append(request.url) if request.method == "POST" else None)

    page.locator("[data-file-input]").set_input_files(
        [
            _file("speech.wav", speech_wav.read_bytes()),
            _file("broken.wav", b"RIFF\x00\x00\x00\x00WAVEjunk" + bytes(range(256)) * 40),
        ]
    )
    rows = page.locator("[data-sample-entry=file]")
    broken = rows.filter(has_text="broken.wav")
    expect(broken.locator("[data-entry-error]")).to_contain_text("cannot be decoded")
    expect(broken).to_have_class(re.compile(r"\bbad\b"))
    expect(rows.filter(has_text="speech.wav").locator("[data-meta]")).to_contain_text(" s ·")

    page.get_by_label("Name").fill(f"Broken {uuid.uuid4().hex[:6]}")
    page.get_by_label("I have the speaker's consent.").check()
    page.get_by_role("button", name="Create voice").click()
    expect(page.locator("[data-error-for=samples]")).to_contain_text("broken.wav")
    assert uploads == []  # nothing left the browser while a sample is flagged
    shoot(page, "clone-form-undecodable-sample")


def test_a_sample_the_server_refuses_is_marked_on_its_row_and_the_others_stay(session, speech_wav):
    page = session.new_page()
    page.goto("/voices/new/")
    page.locator("[data-file-input]").set_input_files(
        [_file("speech.wav", speech_wav.read_bytes()), _file("silence.wav", _silence_wav())]
    )
    rows = page.locator("[data-sample-entry=file]")
    expect(rows.locator("[data-meta]").filter(has_text=" s ·")).to_have_count(2)  # both decoded, both long enough
    page.get_by_label("Name").fill(f"Refused {uuid.uuid4().hex[:6]}")
    page.get_by_label("I have the speaker's consent.").check()
    page.get_by_role("button", name="Create voice").click()

    silence = rows.filter(has_text="silence.wav")
    expect(silence.locator("[data-entry-error]")).to_contain_text("too little speech")
    expect(silence).to_have_class(re.compile(r"\bbad\b"))
    expect(page.locator("#voice-form-error")).to_contain_text("“silence.wav” was refused")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="speech.wav").locator("[data-entry-error]")).to_be_hidden()
    shoot(page, "clone-form-refused-sample")

    silence.get_by_role("button", name="Remove silence.wav").click()
    page.get_by_role("button", name="Create voice").click()
    page.wait_for_url(re.compile(r"/voices/[0-9a-f-]{36}/"))
    expect(page.locator("[data-sample-row]")).to_have_count(1)
