"""Encoding, decoding, resampling and levels (speech/audio.py)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from speech.audio import (
    CONTENT_TYPES,
    FILE_EXTENSIONS,
    FORMATS,
    as_mono_float32,
    decode,
    encode,
    from_s16le,
    peak_normalise,
    resample,
    to_s16le,
    wav_stream_header,
)

RATE = 22050


def tone(seconds: float = 1.3, rate: int = RATE, freq: float = 440.0, level: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (level * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def decoded(data: bytes, fmt: str, rate: int) -> tuple[np.ndarray, int]:
    return (from_s16le(data), rate) if fmt == "pcm" else decode(data)


def test_the_installed_libsndfile_writes_mp3_and_ogg() -> None:
    assert "MP3" in soundfile.available_formats()
    assert "OGG" in soundfile.available_formats()
    assert "VORBIS" in soundfile.available_subtypes("OGG")


def test_every_format_has_a_content_type_and_extension() -> None:
    assert set(FORMATS) == {"wav", "mp3", "ogg", "flac", "pcm"}
    assert set(CONTENT_TYPES) == set(FORMATS) == set(FILE_EXTENSIONS)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("target_rate", [None, 24000, 16000])
def test_every_format_round_trips_with_its_length(fmt: str, target_rate: int | None) -> None:
    audio = tone()
    data = encode(audio, RATE, fmt, target_rate=target_rate)
    back, rate = decoded(data, fmt, target_rate or RATE)
    assert rate == (target_rate or RATE)
    expected = len(audio) * rate / RATE
    # Lossy codecs may pad a frame; resampling may round by a sample.
    assert abs(len(back) - expected) <= 1152
    assert np.all(np.isfinite(back))
    # Same sound, not just the same length: the tone's level survives.
    assert abs(np.sqrt(np.mean(back**2)) - 0.5 / np.sqrt(2)) < 0.03


@pytest.mark.parametrize("fmt", ["wav", "flac", "pcm"])
def test_lossless_formats_keep_16_bit_samples(fmt: str) -> None:
    audio = tone()
    back, _ = decoded(encode(audio, RATE, fmt), fmt, RATE)
    assert len(back) == len(audio)
    assert np.max(np.abs(back - audio)) < 2 / 32767


def test_wav_is_16_bit_pcm() -> None:
    info = soundfile.info(__import__("io").BytesIO(encode(tone(), RATE, "wav")))
    assert (info.format, info.subtype, info.channels, info.samplerate) == ("WAV", "PCM_16", 1, RATE)


def test_ogg_is_vorbis_and_mp3_is_layer_three() -> None:
    import io

    assert soundfile.info(io.BytesIO(encode(tone(), RATE, "ogg"))).subtype == "VORBIS"
    assert soundfile.info(io.BytesIO(encode(tone(), RATE, "mp3"))).subtype == "MPEG_LAYER_III"


def test_an_unknown_format_is_rejected() -> None:
    with pytest.raises(ValueError):
        encode(tone(), RATE, "aac")


def test_mp3_rejects_a_rate_mpeg_cannot_carry() -> None:
    with pytest.raises(ValueError):
        encode(tone(), RATE, "mp3", target_rate=23000)


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_audio_still_encodes_to_a_valid_file(fmt: str) -> None:
    data = encode(np.zeros(0, dtype=np.float32), RATE, fmt)
    back, _ = decoded(data, fmt, RATE)
    assert len(back) <= 1152


def test_pcm_is_raw_little_endian_16_bit() -> None:
    assert (
        to_s16le(np.array([0.0, 1.0, -1.0, 0.5], dtype=np.float32))
        == np.array([0, 32767, -32767, 16384], dtype="<i2").tobytes()
    )


def test_out_of_range_and_invalid_samples_are_clipped_not_wrapped() -> None:
    data = to_s16le(np.array([2.0, -3.0, np.nan, np.inf], dtype=np.float32))
    assert list(np.frombuffer(data, dtype="<i2")) == [32767, -32767, 0, 32767]


def test_checked_samples_are_a_copy_and_the_callers_array_is_left_as_it_was() -> None:
    given = np.array([0.5, np.nan, 2.0, -np.inf], dtype=np.float32)
    checked = as_mono_float32(given)
    assert checked.dtype == np.float32
    assert list(checked) == [0.5, 0.0, 1.0, -1.0]
    assert np.isnan(given[1]) and given[2] == 2.0 and not np.shares_memory(checked, given)
    assert list(as_mono_float32(np.array([[1.0, 0.0], [np.inf, 1.0], [0.5, 0.5]]))) == [0.5, 1.0, 0.5]


def test_resampling_changes_length_by_the_rate_ratio() -> None:
    audio = tone(seconds=2.0)
    out = resample(audio, RATE, 24000)
    assert out.dtype == np.float32
    assert abs(len(out) - 48000) <= 1


def test_peak_normalise_hits_the_peak_without_clipping() -> None:
    loud = tone(level=0.1)
    out = peak_normalise(loud, peak=0.95)
    assert np.isclose(np.max(np.abs(out)), 0.95, atol=1e-6)
    assert np.max(np.abs(out)) <= 0.95
    # The shape is kept: a pure gain.
    assert np.allclose(out / 9.5, loud, atol=1e-6)


def test_peak_normalise_leaves_silence_silent() -> None:
    assert not np.any(peak_normalise(np.zeros(100, dtype=np.float32)))


def test_peak_normalise_rejects_a_peak_above_full_scale() -> None:
    with pytest.raises(ValueError):
        peak_normalise(tone(), peak=1.5)


def test_a_streaming_wav_header_plus_pcm_chunks_is_a_playable_wav() -> None:
    chunks = [tone(0.3), tone(0.2, freq=220)]
    data = wav_stream_header(RATE) + b"".join(to_s16le(c) for c in chunks)
    assert len(wav_stream_header(RATE)) == 44
    back, rate = decode(data)
    assert rate == RATE
    assert len(back) == sum(len(c) for c in chunks)
