"""GET /api/v1/synthesis/{id}/captions?format=srt|vtt: a finished job's captions, which
the `srt` and `webvtt-py` parsers read; owner only."""

from __future__ import annotations

import pytest
import srt
import webvtt

from speech.captions import MAX_LINE_CHARS
from synthesis.models import SynthesisJob

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]

TEXT = (
    "Captions follow the voice. They are cut at sentence ends, and at commas when a sentence runs long, "
    "so that every line stays short enough to read at a glance. Done!"
)


@pytest.fixture
def completed_job(post_job, run_worker) -> str:  # type: ignore[no-untyped-def]
    job_id = post_job(TEXT).json()["id"]
    run_worker()
    return job_id


def test_srt_captions_download_and_parse(owner_api, completed_job):
    response = owner_api.get(f"/api/v1/synthesis/{completed_job}/captions?format=srt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/x-subrip")
    assert response["Content-Disposition"] == f'attachment; filename="speaker-{completed_job}.srt"'
    cues = list(srt.parse(response.content.decode()))
    assert len(cues) >= 3
    assert " ".join(c.content.replace("\n", " ") for c in cues).split() == TEXT.split()
    duration = SynthesisJob.objects.get(pk=completed_job).audio_duration
    assert all(c.start < c.end for c in cues) and cues[-1].end.total_seconds() <= duration + 0.01
    assert all(len(line) <= MAX_LINE_CHARS for c in cues for line in c.content.split("\n"))
    assert all(len(c.content.split("\n")) <= 2 for c in cues)


def test_vtt_captions_download_and_parse(owner_api, completed_job):
    response = owner_api.get(f"/api/v1/synthesis/{completed_job}/captions?format=vtt", HTTP_ACCEPT="text/vtt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/vtt")
    captions = webvtt.from_string(response.content.decode()).captions
    assert captions[0].text.startswith("Captions follow the voice.")
    assert captions[-1].text.endswith("Done!")
    assert all(len(line) <= MAX_LINE_CHARS for c in captions for line in c.lines)


@pytest.mark.parametrize("query", ["?format=ass", "?format=", ""])
def test_an_unknown_or_missing_format_is_a_400_that_names_the_choices(owner_api, completed_job, query):
    response = owner_api.get(f"/api/v1/synthesis/{completed_job}/captions{query}")
    assert response.status_code == 400
    assert response.json()["error"]["details"]["format"] == ["Choose one of srt, vtt."]


def test_another_users_job_is_not_found(outsider_api, completed_job):
    assert outsider_api.get(f"/api/v1/synthesis/{completed_job}/captions?format=srt").status_code == 404


def test_a_job_not_finished_yet_is_a_conflict(owner_api, post_job):
    job_id = post_job(TEXT).json()["id"]
    response = owner_api.get(f"/api/v1/synthesis/{job_id}/captions?format=vtt")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
