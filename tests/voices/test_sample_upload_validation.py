"""Uploads are decoded by content and checked for size, duration and speech; a
rejected upload leaves no file under MEDIA_ROOT and no row."""

from __future__ import annotations

import io
import struct
import zipfile
from typing import Any

import numpy as np
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from monitoring.models import AuditEvent
from voices.models import ConsentRecord, Voice, VoiceSample

from .conftest import media_files, wav_bytes

pytestmark = pytest.mark.usefixtures("piper_only_engines")


def lying_wav_header(rate: int = 16_000) -> bytes:
    """A WAV header that claims about 37 hours of 16-bit mono audio, then 1000 bytes."""
    data_size = 0xFFFF_FF00
    header = (
        b"RIFF" + struct.pack("<I", 0xFFFF_FFF0) + b"WAVE"
        + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        + b"data" + struct.pack("<I", data_size)
    )  # fmt: skip
    return header + b"\x00\x01" * 500


def zip_of(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def assert_nothing_kept() -> None:
    assert media_files(settings.MEDIA_ROOT) == []
    assert not Voice.objects.filter(is_builtin=False).exists()
    assert not VoiceSample.objects.exists()
    assert not ConsentRecord.objects.exists()
    assert not AuditEvent.objects.filter(action__in=["voice.created", "sample.uploaded", "consent.attested"]).exists()


def assert_error_body(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return body["error"]


def upload(create_voice: Any, name: str, data: bytes, content_type: str = "audio/wav") -> Any:
    return create_voice(samples=[SimpleUploadedFile(name, data, content_type=content_type)])


def test_it_rejects_text_renamed_to_wav(create_voice) -> None:
    response = upload(create_voice, "speech.wav", b"Hello, I am definitely a WAV file.\n" * 50)

    assert_error_body(response, 415, "unsupported_media_type")
    assert_nothing_kept()


def test_it_rejects_a_zip_even_when_it_holds_a_wav(create_voice, piper_speech_wav) -> None:
    response = upload(create_voice, "speech.wav", zip_of("speech.wav", piper_speech_wav.read_bytes()))

    assert_error_body(response, 415, "unsupported_media_type")
    assert_nothing_kept()


def test_it_rejects_an_empty_file(create_voice) -> None:
    response = upload(create_voice, "empty.wav", b"")

    error = assert_error_body(response, 422, "unprocessable")
    assert "empty" in error["message"]
    assert_nothing_kept()


@pytest.mark.parametrize("keep", [20, 2000], ids=["inside-the-header", "after-the-header"])
def test_it_rejects_a_truncated_wav(create_voice, piper_speech_wav, keep: int) -> None:
    response = upload(create_voice, "speech.wav", piper_speech_wav.read_bytes()[:keep])

    assert response.status_code in (415, 422)
    assert_error_body(
        response, response.status_code, "unsupported_media_type" if response.status_code == 415 else "unprocessable"
    )
    assert_nothing_kept()


def test_it_rejects_a_wav_header_that_lies_about_its_length(create_voice) -> None:
    response = upload(create_voice, "hours.wav", lying_wav_header())

    error = assert_error_body(response, 422, "unprocessable")
    assert error["details"]["duration_seconds"] < 1
    assert_nothing_kept()


def test_it_rejects_a_file_over_the_size_cap_with_413(create_voice, piper_speech_wav, settings) -> None:
    settings.VOICE_SAMPLE_MAX_BYTES = 100_000
    assert len(piper_speech_wav.read_bytes()) > 100_000

    response = upload(create_voice, "speech.wav", piper_speech_wav.read_bytes())

    error = assert_error_body(response, 413, "payload_too_large")
    assert error["details"]["max_bytes"] == 100_000
    assert_nothing_kept()


def test_it_rejects_a_sample_shorter_than_the_minimum_naming_its_duration(create_voice, piper_speech) -> None:
    short = piper_speech.pcm[: int(1.5 * piper_speech.rate)]

    response = upload(create_voice, "short.wav", wav_bytes(short, piper_speech.rate))

    error = assert_error_body(response, 422, "unprocessable")
    assert "1.5 s" in error["message"]
    assert error["details"]["duration_seconds"] == pytest.approx(1.5, abs=0.01)
    assert_nothing_kept()


def test_it_rejects_a_sample_longer_than_the_maximum_naming_its_duration(create_voice, piper_speech, settings) -> None:
    settings.VOICE_SAMPLE_MAX_SECONDS = 5.0
    assert piper_speech.seconds > 6

    response = upload(create_voice, "long.wav", wav_bytes(piper_speech.pcm, piper_speech.rate))

    error = assert_error_body(response, 422, "unprocessable")
    assert f"{piper_speech.seconds:.1f} s" in error["message"]
    assert error["details"]["max_seconds"] == 5.0
    assert_nothing_kept()


def test_it_rejects_pure_silence(create_voice) -> None:
    response = upload(create_voice, "silence.wav", wav_bytes(np.zeros(16_000 * 6, dtype=np.float32), 16_000))

    error = assert_error_body(response, 422, "unprocessable")
    assert error["details"]["speech_seconds"] == 0
    assert_nothing_kept()


def test_it_rejects_quiet_noise_without_speech(create_voice) -> None:
    noise = np.random.default_rng(3).normal(0, 0.01, 16_000 * 6).astype(np.float32)

    response = upload(create_voice, "noise.wav", wav_bytes(noise, 16_000))

    assert_error_body(response, 422, "unprocessable")
    assert_nothing_kept()


def test_it_rejects_mostly_silent_audio_with_a_little_speech(create_voice, piper_speech) -> None:
    rate = piper_speech.rate
    mostly_silent = np.concatenate([piper_speech.pcm[: int(1.2 * rate)], np.zeros(rate * 20, dtype=np.float32)])

    response = upload(create_voice, "mostly-silent.wav", wav_bytes(mostly_silent, rate))

    error = assert_error_body(response, 422, "unprocessable")
    assert "too little speech" in error["message"]
    assert_nothing_kept()


def test_it_rejects_a_supported_container_with_an_unsupported_codec(create_voice, piper_speech) -> None:
    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, piper_speech.pcm, piper_speech.rate, format="AIFF", subtype="PCM_16")

    response = upload(create_voice, "speech.wav", buffer.getvalue())

    assert_error_body(response, 415, "unsupported_media_type")
    assert_nothing_kept()


def test_a_bad_sample_among_good_ones_rejects_the_whole_request(create_voice, speech_upload) -> None:
    response = create_voice(samples=[speech_upload(), SimpleUploadedFile("bad.wav", b"not audio at all" * 100)])

    error = assert_error_body(response, 415, "unsupported_media_type")
    assert error["details"]["sample_index"] == 1
    assert error["details"]["filename"] == "bad.wav"
    assert_nothing_kept()


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "opus", "mp3", "webm"])
def test_it_accepts_real_speech_in_every_supported_format(create_voice, speech_formats, fmt: str) -> None:
    if fmt not in speech_formats:
        pytest.skip("PyAV is not installed: WebM is answered 415")
    # A misleading name and content type: only the content counts.
    response = upload(create_voice, "recording.bin", speech_formats[fmt], content_type="application/octet-stream")

    assert response.status_code == 201, response.json()
    sample = response.json()["samples"][0]
    expected = {
        "wav": "wav/",
        "flac": "flac/",
        "ogg": "ogg/vorbis",
        "opus": "ogg/opus",
        "mp3": "mp3/",
        "webm": "webm/opus",
    }
    assert sample["original_format"].startswith(expected[fmt])
    assert sample["sample_rate"] == 24000
    assert 7 < sample["duration_seconds"] < 8.5
    assert len(media_files(settings.MEDIA_ROOT)) == 1


def test_it_ignores_a_content_type_that_claims_audio(create_voice) -> None:
    response = upload(create_voice, "speech.mp3", b"<?php echo 'hi'; ?>" * 100, content_type="audio/mpeg")

    assert_error_body(response, 415, "unsupported_media_type")
    assert_nothing_kept()
