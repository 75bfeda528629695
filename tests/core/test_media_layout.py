"""core.media is the one place that knows where files live under MEDIA_ROOT."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from django.conf import settings

from core import media

VOICE = uuid.UUID("0f0e0d0c-0b0a-0908-0706-050403020100")
JOB = uuid.UUID("11111111-2222-3333-4444-555555555555")


def test_a_jobs_audio_is_named_per_owner_job_and_attempt():
    first = media.job_audio_relative(owner_id=7, job_id=JOB, attempt=1)
    again = media.job_audio_relative(owner_id=7, job_id=JOB, attempt=1)
    assert first.startswith(f"jobs/7/{JOB}-a1-") and first.endswith(".wav")
    assert first != again  # a random part: two runs of one attempt never share a file


def test_a_jobs_files_are_its_master_and_its_cached_encodings_only():
    relative = media.job_audio_relative(owner_id=7, job_id=JOB, attempt=2)
    master = media.absolute(relative)
    master.parent.mkdir(parents=True)
    master.write_bytes(b"RIFF")
    mp3 = media.job_encoding_path(master, "mp3")
    mp3.write_bytes(b"ID3")
    other_attempt = media.absolute(media.job_audio_relative(owner_id=7, job_id=JOB, attempt=1))
    other_attempt.write_bytes(b"RIFF")
    assert media.job_audio_files(relative) == [master, mp3]
    assert media.job_audio_files("") == []


def test_a_stored_path_that_escapes_media_root_is_refused():
    with pytest.raises(ValueError, match="escapes MEDIA_ROOT"):
        media.absolute("../outside.wav")
    assert media.job_audio_files("../../etc/passwd") == []


def test_voice_folders_are_named_by_a_parsed_id_never_by_a_path():
    assert media.voice_dir(VOICE) == media.media_root() / "voices" / str(VOICE)
    assert media.voice_sample_relative(VOICE, JOB) == f"voices/{VOICE}/{JOB}.wav"
    assert media.voice_sample_path(VOICE, JOB) == media.absolute(media.voice_sample_relative(VOICE, JOB))
    with pytest.raises(ValueError):
        media.voice_dir("../../etc")


def test_a_preview_is_named_by_the_voice_as_it_is_now():
    conditioned = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    path = media.preview_path(VOICE, samples_version=3, conditioned_at=conditioned)
    assert path == media.media_root() / "previews" / str(VOICE) / "3-20260102030405000006.wav"
    assert media.preview_path(VOICE, samples_version=3, conditioned_at=None).name == "3-0.wav"
    assert media.media_root() == settings.MEDIA_ROOT.resolve()
