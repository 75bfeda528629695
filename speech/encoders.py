"""Incremental audio encoders: float32 chunks in, the bytes of one growing file out, so a
response can stream while the engine is still speaking (docs/api.md "Audio formats")."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import soundfile as sf
import soxr

from speech import audio as audiomod


class _GrowingBuffer(io.RawIOBase):
    """A file for soundfile that remembers what has been handed out: bytes before
    `sent` are on the wire already, so a late header rewrite (MP3's) is dropped."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.pos = 0
        self.sent = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def write(self, b: Any) -> int:
        chunk = bytes(b)
        self.data[self.pos : self.pos + len(chunk)] = chunk
        self.pos += len(chunk)
        return len(chunk)

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.pos, 2: len(self.data)}[whence]
        self.pos = base + offset
        return self.pos

    def tell(self) -> int:
        return self.pos

    def take(self) -> bytes:
        out = bytes(self.data[self.sent :])
        self.sent = len(self.data)
        return out


# Formats IncrementalEncoder writes: the stream endpoint's, plus flac and Ogg Opus for
# /v1/audio/speech, and headerless G.711 μ-law/A-law for telephony (the ElevenLabs-
# compatible API's ulaw_8000/alaw_8000; docs/api.md "Audio formats").
ENCODER_FORMATS: tuple[str, ...] = ("pcm", "wav", "mp3", "ogg", "flac", "opus", "ulaw", "alaw")
# Opus encodes only these rates.
OPUS_SAMPLE_RATES: tuple[int, ...] = (8000, 12000, 16000, 24000, 48000)
# (libsndfile container, subtype) of the formats written through a growing file.
_CONTAINERS: dict[str, tuple[str, str]] = {
    "mp3": ("MP3", "MPEG_LAYER_III"),
    "ogg": ("OGG", "VORBIS"),
    "flac": ("FLAC", "PCM_16"),
    "opus": ("OGG", "OPUS"),
    # G.711 by libsndfile (its own, well-kept codec tables), as raw bytes: no header.
    "ulaw": ("RAW", "ULAW"),
    "alaw": ("RAW", "ALAW"),
}

# libsndfile sets a bitrate through a "compression level" in [0, 1]: a constant-bitrate
# MP3 gets max - level * (max - min) kbps (LAME then takes the nearest legal rate), an
# Opus stream 256 - level * 250 kbps. (min, max) of MP3 per MPEG version: MPEG-1 for
# 32 kHz and up, MPEG-2 for 16-24 kHz, MPEG-2.5 below.
_MP3_KBPS_RANGE: tuple[tuple[int, tuple[int, int]], ...] = ((32000, (32, 320)), (16000, (8, 160)), (0, (8, 64)))
_OPUS_KBPS_RANGE = (6, 256)


def bitrate_compression_level(fmt: str, sample_rate: int, kbps: int) -> float:
    """The libsndfile compression level that gives about `kbps` in `fmt` at `sample_rate`
    (checked by reading back the MP3 frame headers in tests/elevenlabs_api/test_output_formats.py)."""
    if fmt == "mp3":
        low, high = next(bounds for floor, bounds in _MP3_KBPS_RANGE if sample_rate >= floor)
    elif fmt == "opus":
        low, high = _OPUS_KBPS_RANGE
    else:
        raise ValueError(f"{fmt} has no bitrate setting")
    level = (high - min(max(kbps, low), high)) / (high - low)
    return min(level, 0.999)  # libsndfile refuses 1.0 itself


# Formats whose readers need the length in the header: FLAC written before its length is
# known says "unknown", which libsndfile (soundfile, and Speaker's own reader) cannot
# read. They come out whole at close, header complete (docs/api.md "Audio formats").
WHOLE_FILE_FORMATS: tuple[str, ...] = ("flac",)


class IncrementalEncoder:
    """Turns float32 chunks into the bytes of one growing file of `fmt`, resampled on
    the fly to `target_rate` when given (soxr's streaming resampler keeps its filter
    state between chunks, so the joins are seamless). Each chunk's bytes come out as
    soon as the codec has a frame, except for WHOLE_FILE_FORMATS (all at close)."""

    def __init__(
        self, fmt: str, sample_rate: int, *, target_rate: int | None = None, bitrate_kbps: int | None = None
    ) -> None:
        if fmt not in ENCODER_FORMATS:
            raise ValueError(fmt)
        rate = target_rate or sample_rate
        if fmt == "opus" and rate not in OPUS_SAMPLE_RATES:
            raise ValueError(f"opus needs one of the rates {OPUS_SAMPLE_RATES}, not {rate}")
        self.fmt = fmt
        self.input_rate = sample_rate
        self.sample_rate = rate
        self._resampler: soxr.ResampleStream | None = None
        if rate != sample_rate:
            self._resampler = soxr.ResampleStream(sample_rate, rate, 1, dtype="float32", quality="HQ")
        self._started = False
        self._buffer: _GrowingBuffer | None = None
        self._file: sf.SoundFile | None = None
        if fmt in _CONTAINERS:
            # A file that grows: what libsndfile writes is handed out chunk by chunk;
            # its closing rewrite of the header (MP3's Xing tag, FLAC's STREAMINFO
            # totals) falls on bytes already sent and is dropped, which both formats
            # allow ("length unknown").
            self._buffer = _GrowingBuffer()
            container, subtype = _CONTAINERS[fmt]
            extra: dict[str, Any] = {}
            if fmt == "mp3":
                # Constant bitrate: the VBR header LAME fills in at close cannot reach a
                # client that has the start already, and without it a VBR stream's
                # length is misread from its first frame (libmpg123 stopped at 0.6 s
                # of 3 s). A CBR stream's length follows from its size.
                extra = {"bitrate_mode": "CONSTANT", "compression_level": 0.5}
            if bitrate_kbps is not None:
                extra["compression_level"] = bitrate_compression_level(fmt, rate, bitrate_kbps)
            self._file = sf.SoundFile(
                self._buffer, mode="w", samplerate=rate, channels=1, format=container, subtype=subtype, **extra
            )

    def encode(self, chunk: np.ndarray) -> bytes:
        audio = audiomod.as_mono_float32(chunk)
        if self._resampler is not None:
            # The resampler's filter may overshoot full scale: `_write` checks its output.
            return self._write(self._resampler.resample_chunk(audio), checked=False)
        return self._write(audio, checked=True)

    def close(self) -> bytes:
        tail = b""
        if self._resampler is not None:
            # The resampler holds back a filter's length of samples until told it is the end.
            tail = self._write(self._resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True), checked=False)
            self._resampler = None
        if self._file is not None and self._buffer is not None:
            self._file.close()
            self._file = None
            return tail + self._buffer.take()
        return tail

    @property
    def streams(self) -> bool:
        """Whether bytes come out before close."""
        return self.fmt not in WHOLE_FILE_FORMATS

    def _write(self, audio: np.ndarray, *, checked: bool) -> bytes:
        """`audio`'s bytes; `checked`: it is `as_mono_float32`'s already."""
        if self._file is not None and self._buffer is not None:
            if audio.size:
                self._file.write(audio)
            # Held formats are taken at close only, so libsndfile's closing header
            # rewrite lands on bytes not yet sent.
            return self._buffer.take() if self.streams else b""
        prefix = b""
        if self.fmt == "wav" and not self._started:
            prefix = audiomod.wav_stream_header(self.sample_rate)
        self._started = True
        return prefix + (audiomod.s16le_of_mono(audio) if checked else audiomod.to_s16le(audio))
