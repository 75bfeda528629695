"""`make run`'s configuration, live (daphne on SQLite with the engine worker inside, no
Redis): a production made through the API is spoken by the embedded worker, assembled,
and downloadable with its chapter markers."""

from __future__ import annotations

import io
import time

import mutagen
import requests

from tests.productions.conftest import BOOK


def test_a_production_completes_in_the_embedded_default(live_server_embedded):
    key = live_server_embedded.create_key("longform-user")
    headers = {"X-API-Key": key}
    base = f"{live_server_embedded.url}/api/v1/productions"
    created = requests.post(base, json={"text": BOOK, "voice": "joe", "title": "Live"}, headers=headers, timeout=60)
    assert created.status_code == 202, created.text
    url = f"{base}/{created.json()['id']}"
    deadline = time.monotonic() + 240
    body = created.json()
    while body["status"] not in ("completed", "failed") and time.monotonic() < deadline:
        time.sleep(0.5)
        body = requests.get(url, headers=headers, timeout=30).json()
    assert body["status"] == "completed", body
    assert body["segments_done"] == body["segments_total"]
    audio = requests.get(f"{url}/audio?format=m4b", headers=headers, timeout=120)
    assert audio.status_code == 200 and audio.headers["Content-Type"] == "audio/mp4"
    assert [c.title for c in mutagen.File(io.BytesIO(audio.content)).chapters] == [
        "Live",
        "The first chapter",
        "The second chapter",
    ]
