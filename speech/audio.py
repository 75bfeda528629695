"""Audio out: encoding, decoding, resampling and level for engine PCM.

Engines produce float32 mono PCM in [-1, 1]. Everything here goes through
soundfile (libsndfile >= 1.1 writes MP3 and OGG Vorbis itself, so no FFmpeg is
needed) and soxr for resampling.
"""

from __future__ import annotations

import io
import struct

import numpy as np
import soundfile
import soxr

FORMATS: tuple[str, ...] = ("wav", "mp3", "ogg", "flac", "pcm")
# What POST /api/v1/synthesis/stream sends (docs/api.md "Audio formats").
STREAM_FORMATS: tuple[str, ...] = ("pcm", "wav", "mp3", "ogg")

CONTENT_TYPES: dict[str, str] = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    # Raw signed 16-bit little-endian mono. audio/L16 is registered but big-endian, so
    # raw pcm goes as audio/pcm (as other TTS services send it) with its rate and channel
    # count as parameters and in headers: `content_type` and `pcm_headers` (docs/api.md
    # "Audio formats").
    "pcm": "audio/pcm",
}

# What a raw pcm response carries in headers besides its content type.
PCM_SAMPLE_FORMAT = "s16le"

FILE_EXTENSIONS: dict[str, str] = {
    "wav": ".wav",
    "mp3": ".mp3",
    "ogg": ".ogg",
    "flac": ".flac",
    "pcm": ".pcm",
}

# (libsndfile container, subtype) for each encoded format.
_SOUNDFILE_FORMATS: dict[str, tuple[str, str]] = {
    "wav": ("WAV", "PCM_16"),
    "flac": ("FLAC", "PCM_16"),
    "ogg": ("OGG", "VORBIS"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
}

# MPEG audio only defines these rates; libsndfile refuses others.
MP3_SAMPLE_RATES: tuple[int, ...] = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
MIN_SAMPLE_RATE = 8000
MAX_SAMPLE_RATE = 192000


def content_type(fmt: str, sample_rate: int | None = None) -> str:
    """The Content-Type of audio in `fmt`; raw pcm names its rate and channel count
    (`audio/pcm;rate=22050;channels=1`), which a reader of raw samples needs."""
    base = CONTENT_TYPES[fmt]
    if fmt == "pcm" and sample_rate:
        return f"{base};rate={int(sample_rate)};channels=1"
    return base


def pcm_headers(sample_rate: int) -> dict[str, str]:
    """Headers every raw pcm response carries: the sample rate, channel count and sample
    format, for clients that do not parse Content-Type parameters."""
    return {"X-Sample-Rate": str(int(sample_rate)), "X-Channels": "1", "X-Sample-Format": PCM_SAMPLE_FORMAT}


def as_mono_float32(pcm: np.ndarray) -> np.ndarray:
    """1-D float32 copy in [-1, 1]; NaN and infinities become silence or full scale.
    Two passes over the samples (every chunk of every request goes through here): the
    clip, which also takes the infinities to full scale, and a look for NaN, which clip
    keeps; `np.nan_to_num` then clip took five."""
    audio = np.asarray(pcm, dtype=np.float32)
    if audio.ndim == 2:
        audio = audio.mean(axis=1) if audio.shape[1] <= audio.shape[0] else audio.mean(axis=0)
    audio = np.clip(audio.reshape(-1), -1.0, 1.0)
    if np.isnan(audio).any():
        np.nan_to_num(audio, copy=False, nan=0.0)
    return audio


def resample(pcm: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample mono float32 PCM with soxr (high quality)."""
    _check_rate(from_rate)
    _check_rate(to_rate)
    audio = np.asarray(pcm, dtype=np.float32).reshape(-1)
    if from_rate == to_rate or audio.size == 0:
        return audio.copy()
    return soxr.resample(audio, from_rate, to_rate, quality="HQ").astype(np.float32, copy=False)


def peak_normalise(pcm: np.ndarray, peak: float = 0.95) -> np.ndarray:
    """Scale so the loudest sample is exactly `peak` (<= 1, so nothing clips).
    Silence stays silence."""
    if not 0.0 < peak <= 1.0:
        raise ValueError("peak must be in (0, 1]")
    audio = np.asarray(pcm, dtype=np.float32).reshape(-1)
    audio = np.nan_to_num(audio, nan=0.0, posinf=0.0, neginf=0.0)
    loudest = float(np.max(np.abs(audio))) if audio.size else 0.0
    if loudest < 1e-9:
        return audio.copy()
    out = audio * np.float32(peak / loudest)
    # Float rounding can overshoot by an ulp; never let it leave the range.
    return np.clip(out, -peak, peak).astype(np.float32, copy=False)


def to_s16le(pcm: np.ndarray) -> bytes:
    """Raw signed 16-bit little-endian mono samples."""
    return s16le_of_mono(as_mono_float32(pcm))


def s16le_of_mono(audio: np.ndarray) -> bytes:
    """`to_s16le` of samples that are `as_mono_float32`'s already (an encoder's, which
    checked them once), without checking them again."""
    # Symmetric scaling by 32767 keeps +1.0 and -1.0 in range without wrap-around.
    scaled = audio * np.float32(32767.0)
    return np.rint(scaled, out=scaled).astype("<i2").tobytes()


def from_s16le(data: bytes) -> np.ndarray:
    """Inverse of `to_s16le` (float32 in [-1, 1])."""
    if len(data) % 2:
        raise ValueError("s16le data must have an even number of bytes")
    return (np.frombuffer(data, dtype="<i2").astype(np.float32) / 32767.0).clip(-1.0, 1.0)


def wav_stream_header(sample_rate: int, *, channels: int = 1, bits: int = 16) -> bytes:
    """A 44-byte WAV header for audio of unknown length, for streaming responses.

    RIFF and data sizes are set to 0xFFFFFFFF, which players and libsndfile read as
    "until the end of the stream". Follow it with `to_s16le` chunks.
    """
    _check_rate(sample_rate)
    block_align = channels * bits // 8
    unknown = 0xFFFFFFFF
    return b"".join(
        [
            b"RIFF",
            struct.pack("<I", unknown),
            b"WAVE",
            b"fmt ",
            struct.pack("<IHHIIHH", 16, 1, channels, sample_rate, sample_rate * block_align, block_align, bits),
            b"data",
            struct.pack("<I", unknown),
        ]
    )


def encode(pcm: np.ndarray, sample_rate: int, fmt: str, *, target_rate: int | None = None) -> bytes:
    """Encode mono PCM as wav (16-bit), mp3, ogg (Vorbis), flac (16-bit) or raw pcm
    (s16le), resampling to `target_rate` first when given.

    Input is clipped to [-1, 1] (use `peak_normalise` first to avoid clipping).
    Empty input gives an empty wav/ogg/pcm and one silent sample in flac/mp3."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown audio format {fmt!r}; choose one of {', '.join(FORMATS)}")
    _check_rate(sample_rate)
    audio = as_mono_float32(pcm)
    rate = sample_rate
    if target_rate is not None and target_rate != sample_rate:
        audio = resample(audio, sample_rate, target_rate)
        rate = target_rate
    if fmt == "pcm":
        return to_s16le(audio)
    if fmt == "mp3" and rate not in MP3_SAMPLE_RATES:
        raise ValueError(f"mp3 supports sample rates {MP3_SAMPLE_RATES}, not {rate}")
    container, subtype = _SOUNDFILE_FORMATS[fmt]
    if audio.size == 0 and fmt in ("flac", "mp3"):
        # libsndfile writes nothing at all for zero frames in these two; one silent
        # sample keeps the result a valid file.
        audio = np.zeros(1, dtype=np.float32)
    buffer = io.BytesIO()
    with soundfile.SoundFile(buffer, mode="w", samplerate=rate, channels=1, format=container, subtype=subtype) as out:
        if audio.size:
            out.write(audio)
    return buffer.getvalue()


def decode(data: bytes) -> tuple[np.ndarray, int]:
    """Decode any container soundfile reads (wav, flac, ogg, mp3, ...) to mono float32.
    Raw pcm has no header: use `from_s16le` for it."""
    with soundfile.SoundFile(io.BytesIO(data)) as f:
        audio = f.read(dtype="float32", always_2d=True)
        rate = int(f.samplerate)
    return audio.mean(axis=1).astype(np.float32, copy=False), rate


def duration_seconds(pcm: np.ndarray, sample_rate: int) -> float:
    return float(np.asarray(pcm).reshape(-1).shape[0]) / float(sample_rate)


def _check_rate(rate: int) -> None:
    if isinstance(rate, bool) or not isinstance(rate, (int, np.integer)):
        raise ValueError(f"sample rate must be an integer, got {rate!r}")
    if not MIN_SAMPLE_RATE <= int(rate) <= MAX_SAMPLE_RATE:
        raise ValueError(f"sample rate must be in [{MIN_SAMPLE_RATE}, {MAX_SAMPLE_RATE}], got {rate}")
