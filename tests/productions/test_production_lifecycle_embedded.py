"""A production run to the end by a real engine worker in this process (the embedded
default), then downloaded: the whole and each chapter in every format, a segment, captions."""

from __future__ import annotations

import io

import mutagen
import pytest
import soundfile

from productions import assembly as asm
from productions.models import Production
from synthesis.models import SynthesisJob
from tests.productions.conftest import production

pytestmark = [pytest.mark.usefixtures("piper_only")]


@pytest.fixture
def finished(post_production, run_worker):  # type: ignore[no-untyped-def]
    body = post_production().json()
    run_worker()
    return body["id"]


def test_every_segment_is_spoken_once_and_the_production_is_assembled(owner_api, finished):
    body = owner_api.get(f"/api/v1/productions/{finished}").json()
    assert body["status"] == "completed", body
    assert body["segments_done"] == body["segments_total"] and body["progress"] == 1.0 and body["eta_seconds"] == 0.0
    assert abs(body["loudness_lufs"] - asm.LOUDNESS_TARGET_LUFS) <= 1.0
    jobs = SynthesisJob.objects.filter(mode="segment")
    assert jobs.count() == body["segments_total"] and set(jobs.values_list("attempts", flat=True)) == {1}


@pytest.mark.parametrize("fmt", asm.FORMATS)
def test_the_whole_downloads_in_each_format(owner_api, finished, fmt):
    response = owner_api.get(f"/api/v1/productions/{finished}/audio?format={fmt}")
    assert response.status_code == 200
    assert response["Content-Type"] == asm.CONTENT_TYPES[fmt]
    data = b"".join(response.streaming_content)
    assert mutagen.File(io.BytesIO(data)) is not None


def test_the_whole_mp3_has_one_chapter_marker_per_chapter(owner_api, finished):
    data = b"".join(owner_api.get(f"/api/v1/productions/{finished}/audio?format=mp3").streaming_content)
    chapters = sorted(mutagen.File(io.BytesIO(data)).tags.getall("CHAP"), key=lambda c: c.start_time)
    assert [c.sub_frames["TIT2"].text[0] for c in chapters] == ["A book", "The first chapter", "The second chapter"]


def test_each_chapter_downloads_on_its_own(owner_api, finished):
    whole = soundfile.info(
        io.BytesIO(b"".join(owner_api.get(f"/api/v1/productions/{finished}/audio?format=wav").streaming_content))
    ).duration
    parts = [
        soundfile.info(
            io.BytesIO(
                b"".join(
                    owner_api.get(f"/api/v1/productions/{finished}/chapters/{n}/audio?format=flac").streaming_content
                )
            )
        ).duration
        for n in (1, 2, 3)
    ]
    assert abs(sum(parts) + 2 * asm.CHAPTER_GAP_SECONDS - whole) < 0.05
    assert owner_api.get(f"/api/v1/productions/{finished}/chapters/9/audio").status_code == 404


def test_a_segment_plays_on_its_own(owner_api, finished):
    response = owner_api.get(f"/api/v1/productions/{finished}/segments/1/audio")
    assert response.status_code == 200 and response["Content-Type"] == "audio/wav"


def test_captions_follow_the_word_timings_when_every_segment_has_them(owner_api, finished):
    segments = production(finished).segments_total
    srt = owner_api.get(f"/api/v1/productions/{finished}/captions")
    assert srt.status_code == 200 and srt["X-Captions-From"] == "words"
    cues = [line for line in srt.content.decode().splitlines() if " --> " in line]
    assert len(cues) > segments and cues == sorted(cues)
    assert owner_api.get(f"/api/v1/productions/{finished}/captions?format=txt").status_code == 400


def test_captions_have_one_cue_per_segment_without_word_timings(owner_api, finished):
    SynthesisJob.objects.filter(mode="segment").update(timings=None)
    total = production(finished).segments_total
    srt = owner_api.get(f"/api/v1/productions/{finished}/captions")
    vtt = owner_api.get(f"/api/v1/productions/{finished}/captions?format=vtt")
    assert srt.status_code == vtt.status_code == 200 and srt["X-Captions-From"] == "segments"
    assert srt.content.decode().count(" --> ") == total and vtt.content.decode().startswith("WEBVTT")


def test_downloads_before_completion_are_a_409_and_an_unknown_format_a_400(
    owner_api, post_production, transactional_db
):
    body = post_production().json()
    response = owner_api.get(f"/api/v1/productions/{body['id']}/audio")
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"
    assert owner_api.get(f"/api/v1/productions/{body['id']}/audio?format=aiff").status_code == 400


def test_it_is_listed_and_deleted_with_its_files(owner_api, finished, settings):
    assert owner_api.get("/api/v1/productions").json()["count"] == 1
    assert owner_api.delete(f"/api/v1/productions/{finished}").status_code == 204
    assert not Production.objects.exists() and not SynthesisJob.objects.exists()
    assert not list((settings.MEDIA_ROOT / "productions").rglob("*.wav")) and not list(
        (settings.MEDIA_ROOT / "jobs").rglob("*.wav")
    )
