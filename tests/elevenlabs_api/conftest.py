"""ElevenLabs-compatible API fixtures: Django test clients that send a Speaker key the
way ElevenLabs clients do (`xi-api-key`), for the owner and the outsider personas, and
finished jobs made by a real engine worker."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from django.test import Client

from accounts.models import User
from engine_host.worker import EngineWorker
from tests.conftest_engines import piper_engine  # noqa: F401 - a fixture used below


class XiClient:
    """A Django test client that sends `xi-api-key` with every request."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.client = Client()

    def _headers(self, extra: dict[str, Any]) -> dict[str, Any]:
        return {"HTTP_XI_API_KEY": self.key, **extra}

    def get(self, path: str, data: Any = None, **extra: Any) -> Any:
        return self.client.get(path, data, **self._headers(extra))

    def delete(self, path: str, **extra: Any) -> Any:
        return self.client.delete(path, **self._headers(extra))

    def post_json(self, path: str, body: Any, **extra: Any) -> Any:
        return self.client.post(path, body, content_type="application/json", **self._headers(extra))

    def post_form(self, path: str, data: dict[str, Any], **extra: Any) -> Any:
        return self.client.post(path, data, **self._headers(extra))


@pytest.fixture
def xi_for(make_key) -> Callable[..., XiClient]:  # type: ignore[no-untyped-def]
    def _make(user: User, scopes: list[str] | None = None) -> XiClient:
        return XiClient(make_key(user, scopes))

    return _make


@pytest.fixture
def owner_xi(owner: User, xi_for) -> XiClient:  # type: ignore[no-untyped-def]
    return xi_for(owner)


@pytest.fixture
def outsider_xi(outsider: User, xi_for) -> XiClient:  # type: ignore[no-untyped-def]
    return xi_for(outsider)


@pytest.fixture
def run_worker(piper_only, transactional_db) -> Callable[[], None]:  # type: ignore[no-untyped-def]
    """A real engine worker in this process, run until the queue is empty."""

    def _run() -> None:
        worker = EngineWorker(worker_id="elevenlabs-test-worker")
        for _ in range(50):
            if not worker.run_once():
                break

    return _run


def error_of(response: Any) -> dict[str, Any]:
    """ElevenLabs' error body: {"detail": {"status", "message"}}."""
    body = response.json()
    assert set(body) == {"detail"} and set(body["detail"]) == {"status", "message"}, body
    return body["detail"]


@pytest.fixture(scope="session")
def speech_wav(piper_engine) -> bytes:  # type: ignore[no-untyped-def]  # noqa: F811
    """About five seconds of real speech (Piper's joe) as a WAV file: a sample to clone."""
    pcm = piper_engine.synthesize_all(
        "This is my voice, recorded for cloning. I read a few calm sentences, so that the model can hear me.",
        language="en",
    )
    buffer = io.BytesIO()
    sf.write(buffer, np.asarray(pcm, dtype=np.float32), piper_engine.sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()
