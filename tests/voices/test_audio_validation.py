"""voices.audio_validation: content-based decoding, caps enforced while reading, VAD."""

from __future__ import annotations

import io
import struct
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr
from django.core.files.uploadedfile import SimpleUploadedFile

from core.errors import PayloadTooLarge, Unprocessable, UnsupportedMedia
from voices import audio_validation
from voices.audio_validation import SampleSizeLimitUploadHandler, copy_upload, decode_sample, validate_sample

from .conftest import wav_bytes


def flac_claiming(speech_pcm: np.ndarray, rate: int, claimed_frames: int) -> bytes:
    """A real FLAC whose STREAMINFO claims `claimed_frames` samples."""
    buffer = io.BytesIO()
    sf.write(buffer, speech_pcm, rate, format="FLAC", subtype="PCM_16")
    data = bytearray(buffer.getvalue())
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0  # STREAMINFO first
    (packed,) = struct.unpack(">Q", data[18:26])  # rate(20) channels(3) bps(5) total(36)
    packed = (packed & ~((1 << 36) - 1)) | claimed_frames
    data[18:26] = struct.pack(">Q", packed)
    return bytes(data)


def write(tmp_path: Path, data: bytes, name: str = "upload.upload") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_header_claiming_hours_is_rejected_before_any_audio_is_read(tmp_path, piper_speech) -> None:
    hours = piper_speech.rate * 3600 * 5
    path = write(tmp_path, flac_claiming(piper_speech.pcm, piper_speech.rate, hours))
    assert sf.info(str(path)).frames == hours  # libsndfile believes the header

    tracemalloc.start()
    try:
        with pytest.raises(Unprocessable) as caught:
            decode_sample(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert caught.value.details["duration_seconds"] == pytest.approx(5 * 3600)
    assert "18000.0 s" in caught.value.message
    assert peak < 5_000_000


def test_it_reads_no_more_than_the_duration_cap_of_a_long_file(tmp_path, settings) -> None:
    settings.VOICE_SAMPLE_MAX_SECONDS = 2.0
    path = write(tmp_path, wav_bytes(np.zeros(16_000 * 60, dtype=np.float32), 16_000))

    tracemalloc.start()
    try:
        with pytest.raises(Unprocessable) as caught:
            decode_sample(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert caught.value.details["max_seconds"] == 2.0
    # 60 s of float32 would be 3.8 MB; the read stops after 2 s (128 KB).
    assert peak < 1_000_000


def test_it_decodes_by_content_whatever_the_file_is_called(tmp_path, speech_formats) -> None:
    for fmt, data in speech_formats.items():
        decoded = decode_sample(write(tmp_path, data, f"sample-{fmt}.txt"))
        assert 7 < decoded.duration_seconds < 8.5, fmt


def test_it_mixes_stereo_down_to_mono(tmp_path, piper_speech) -> None:
    stereo = np.stack([piper_speech.pcm, piper_speech.pcm * 0.5], axis=1)
    buffer = io.BytesIO()
    sf.write(buffer, stereo, piper_speech.rate, format="WAV", subtype="FLOAT")

    result = validate_sample(write(tmp_path, buffer.getvalue()))

    assert result.channels == 2
    assert result.pcm.ndim == 1
    assert result.sample_rate == audio_validation.STORED_SAMPLE_RATE


def test_it_rejects_an_unsupported_channel_count_from_the_header(tmp_path) -> None:
    header = (
        b"RIFF" + struct.pack("<I", 36 + 64 * 2) + b"WAVE"
        + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 64, 16_000, 16_000 * 128, 128, 16)
        + b"data" + struct.pack("<I", 64 * 2 * 100)
    )  # fmt: skip
    with pytest.raises((Unprocessable, UnsupportedMedia)):
        decode_sample(write(tmp_path, header + b"\x00" * 64 * 2 * 100))


def test_it_rejects_a_matroska_whose_track_is_not_opus(tmp_path) -> None:
    av = pytest.importorskip("av")
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="matroska") as out:
        stream = out.add_stream("pcm_s16le", rate=48_000)
        stream.layout = "mono"
        audio = np.zeros(48_000, dtype=np.int16)
        for start in range(0, audio.size, 1024):
            frame = av.AudioFrame.from_ndarray(audio[start : start + 1024].reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = 48_000
            frame.pts = start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)

    with pytest.raises(UnsupportedMedia) as caught:
        decode_sample(write(tmp_path, buffer.getvalue()))
    assert "Opus" in caught.value.message


def test_a_file_that_only_starts_like_webm_is_unsupported(tmp_path) -> None:
    with pytest.raises(UnsupportedMedia):
        decode_sample(write(tmp_path, b"\x1a\x45\xdf\xa3" + b"\x00garbage" * 200))


def test_the_upload_handler_stops_a_file_as_soon_as_it_passes_the_cap(settings) -> None:
    settings.VOICE_SAMPLE_MAX_BYTES = 10_000
    handler = SampleSizeLimitUploadHandler()
    handler.new_file("samples", "a.wav", "audio/wav", None)
    assert handler.receive_data_chunk(b"x" * 6_000, 0) == b"x" * 6_000

    with pytest.raises(PayloadTooLarge):
        handler.receive_data_chunk(b"x" * 6_000, 6_000)

    handler.new_file("samples", "b.wav", "audio/wav", None)  # each file has its own cap
    assert handler.receive_data_chunk(b"x" * 9_000, 0)


def test_the_upload_handler_refuses_a_body_larger_than_every_sample_at_the_cap(settings) -> None:
    settings.VOICE_SAMPLE_MAX_BYTES = 10_000
    settings.VOICE_MAX_SAMPLES = 2

    with pytest.raises(PayloadTooLarge):
        SampleSizeLimitUploadHandler().handle_raw_input(None, {}, 20_000 + 1024 * 1024 + 1, b"x")


def test_copying_an_upload_stops_at_the_cap_and_hashes_what_it_kept(tmp_path, settings) -> None:
    settings.VOICE_SAMPLE_MAX_BYTES = 4096
    small = SimpleUploadedFile("a.wav", b"a" * 4096)

    digest, size = copy_upload(small, tmp_path / "ok")
    assert size == 4096
    assert digest == __import__("hashlib").sha256(b"a" * 4096).hexdigest()

    class Unsized(SimpleUploadedFile):
        size = None  # a stream that does not say how big it is

    with pytest.raises(PayloadTooLarge):
        copy_upload(Unsized("b.wav", b"b" * 10_000), tmp_path / "too-big")


def test_the_size_cap_is_enforced_while_the_request_is_parsed(
    piper_only_engines, create_voice, speech_upload, settings, monkeypatch
) -> None:
    settings.VOICE_SAMPLE_MAX_BYTES = 50_000

    def never(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the upload reached the service")

    monkeypatch.setattr(audio_validation, "copy_upload", never)
    response = create_voice(samples=[speech_upload()])

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_speech_is_measured_with_silero_vad(piper_speech) -> None:
    speech = audio_validation.speech_seconds(piper_speech.pcm, piper_speech.rate)
    silence = audio_validation.speech_seconds(np.zeros(piper_speech.rate * 3, dtype=np.float32), piper_speech.rate)

    assert speech > 0.6 * piper_speech.seconds
    assert silence == 0


def test_the_vad_agrees_with_the_silero_vad_package(piper_speech, other_speech) -> None:
    torch = pytest.importorskip("torch")
    from silero_vad import get_speech_timestamps, load_silero_vad

    threads = torch.get_num_threads()
    try:
        model = load_silero_vad(onnx=True)
        rate = piper_speech.rate
        gap = np.zeros(rate * 2, dtype=np.float32)
        audio = np.concatenate([gap, piper_speech.pcm, gap, other_speech.pcm, gap])
        audio16 = soxr.resample(audio, rate, 16_000).astype(np.float32)

        ours = audio_validation.speech_seconds(audio, rate)
        stamps = get_speech_timestamps(torch.from_numpy(audio16), model, sampling_rate=16_000)
        theirs = sum(s["end"] - s["start"] for s in stamps) / 16_000

        assert ours == pytest.approx(theirs, rel=0.03)
        probabilities = audio_validation.speech_probabilities(audio16)
        model.reset_states()
        reference = [model(torch.from_numpy(audio16[i : i + 512]), 16_000).item() for i in range(0, 512 * 40, 512)]
        assert probabilities[:40] == pytest.approx(reference, abs=1e-4)
    finally:
        torch.set_num_threads(threads)


def test_measuring_speech_does_not_import_torch(piper_speech) -> None:
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from voices.audio_validation import speech_seconds\n"
        "assert speech_seconds(np.zeros(16000, dtype=np.float32), 16000) == 0\n"
        "print('torch' in sys.modules)\n"
    )
    env = {**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "speaker_site.settings"}
    setup = "import django; django.setup()\n"
    result = subprocess.run([sys.executable, "-c", setup + code], capture_output=True, text=True, env=env, timeout=120)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
