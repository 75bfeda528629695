"""Voice test fixtures: real speech made with Piper (cached per session), a corpus of
the same speech in every accepted format, upload helpers, and engine set-ups."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import soxr
from django.core.files.uploadedfile import SimpleUploadedFile

import core.engines as registry_module
from tests.conftest import sync_builtin_voices
from tests.conftest_engines import engine_registry, piper_engine, tiny_xtts_dir  # noqa: F401 - imported fixtures register here
from voices.services import catalogue

SPEECH_TEXT = (
    "Hello there. This is a test of the voice cloning upload. "
    "The quick brown fox jumps over the lazy dog, and then it runs away."
)
OTHER_SPEECH_TEXT = "Good morning! Every sample must hold real speech, or the upload is refused."


@dataclass(frozen=True)
class Speech:
    pcm: np.ndarray  # float32 mono
    rate: int

    @property
    def seconds(self) -> float:
        return self.pcm.size / self.rate


def _speak(engine: Any, text: str) -> Speech:
    pcm = engine.synthesize_all(text, language="en")
    return Speech(pcm=np.asarray(pcm, dtype=np.float32), rate=int(engine.sample_rate))


@pytest.fixture(scope="session")
def piper_speech(piper_engine) -> Speech:  # type: ignore[no-untyped-def]  # noqa: F811
    speech = _speak(piper_engine, SPEECH_TEXT)
    assert speech.seconds >= 4.0
    return speech


@pytest.fixture(scope="session")
def other_speech(piper_engine) -> Speech:  # type: ignore[no-untyped-def]  # noqa: F811
    speech = _speak(piper_engine, OTHER_SPEECH_TEXT)
    assert speech.seconds >= 3.5
    return speech


def wav_bytes(pcm: np.ndarray, rate: int, subtype: str = "PCM_16") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, pcm, rate, format="WAV", subtype=subtype)
    return buffer.getvalue()


def _encode(pcm: np.ndarray, rate: int, fmt: str, subtype: str) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, pcm, rate, format=fmt, subtype=subtype)
    return buffer.getvalue()


def _webm_opus(pcm: np.ndarray, rate: int) -> bytes | None:
    """WebM/Opus as a browser's MediaRecorder writes it (48 kHz Opus in WebM)."""
    try:
        import av
    except ImportError:
        return None
    audio = soxr.resample(pcm, rate, 48_000).astype(np.float32)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="webm") as out:
        stream = out.add_stream("libopus", rate=48_000)
        stream.layout = "mono"
        for start in range(0, audio.size, 960):
            frame = av.AudioFrame.from_ndarray(audio[start : start + 960].reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = 48_000
            frame.pts = start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def piper_speech_wav(piper_speech: Speech, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Several seconds of real speech (Piper's joe) as a 16-bit WAV file."""
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    path.write_bytes(wav_bytes(piper_speech.pcm, piper_speech.rate))
    return path


@pytest.fixture(scope="session")
def speech_formats(piper_speech: Speech) -> dict[str, bytes]:
    """The same speech in every accepted format."""
    pcm, rate = piper_speech.pcm, piper_speech.rate
    formats = {
        "wav": wav_bytes(pcm, rate),
        "flac": _encode(pcm, rate, "FLAC", "PCM_16"),
        "ogg": _encode(pcm, rate, "OGG", "VORBIS"),
        "opus": _encode(soxr.resample(pcm, rate, 48_000).astype(np.float32), 48_000, "OGG", "OPUS"),
        "mp3": _encode(pcm, rate, "MP3", "MPEG_LAYER_III"),
    }
    webm = _webm_opus(pcm, rate)
    if webm is not None:
        formats["webm"] = webm
    return formats


@pytest.fixture
def speech_upload(piper_speech_wav: Path) -> Callable[..., SimpleUploadedFile]:
    def _make(
        name: str = "speech.wav", data: bytes | None = None, content_type: str = "audio/wav"
    ) -> SimpleUploadedFile:
        return SimpleUploadedFile(
            name, piper_speech_wav.read_bytes() if data is None else data, content_type=content_type
        )

    return _make


@pytest.fixture
def other_upload(other_speech: Speech) -> Callable[..., SimpleUploadedFile]:
    def _make(name: str = "other.wav") -> SimpleUploadedFile:
        return SimpleUploadedFile(name, wav_bytes(other_speech.pcm, other_speech.rate), content_type="audio/wav")

    return _make


@pytest.fixture
def create_voice(owner_api, speech_upload):  # type: ignore[no-untyped-def]
    """POST /api/v1/voices as the owner; returns the response."""

    def _create(client: Any = None, *, samples: list[Any] | None = None, **fields: Any):  # type: ignore[no-untyped-def]
        body: dict[str, Any] = {"name": "Grandma", "language": "en", "consent": "true", **fields}
        body["samples"] = samples if samples is not None else [speech_upload()]
        return (client or owner_api).post("/api/v1/voices", body, format="multipart")

    return _create


def media_files(root: Path) -> list[Path]:
    """Every file under MEDIA_ROOT (folders alone do not count)."""
    return sorted(p for p in Path(root).rglob("*") if p.is_file()) if Path(root).exists() else []


@pytest.fixture
def piper_only_engines(piper_only) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """No cloning engine here: cloned voices wait as `pending_engine`."""
    yield
    catalogue._builtin_signature = None


@pytest.fixture
def tiny_xtts_engines(
    monkeypatch: pytest.MonkeyPatch, engine_registry, request: pytest.FixtureRequest
) -> Iterator[Any]:  # type: ignore[no-untyped-def]  # noqa: F811
    """Piper and XTTS on the tiny random checkpoint as the process registry (its
    built-in voices synced, as a server started with it would have them). The session's
    registry is shared (loaded once) and put back untouched afterwards."""
    monkeypatch.setattr(registry_module, "_registry", engine_registry)
    sync_builtin_voices(request)
    yield engine_registry
    catalogue._builtin_signature = None
