"""Fixtures for the XTTS install tests: the tiny checkpoint served as a mirror on
127.0.0.1, its manifest, and a configuration with both engines and an empty
checkpoint folder (what a fresh install with XTTS enabled has)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.engines import reset_registry
from tests.checkpoint_server import CheckpointServer, manifest_for, serve, write_manifest
from tests.conftest_engines import tiny_xtts_dir  # noqa: F401 - fixture
from voices.services import catalogue

CHECKPOINT = ["speakers_xtts.pth", "model.pth", "vocab.json", "config.json"]


@pytest.fixture
def mirror(tiny_xtts_dir: Path) -> Iterator[CheckpointServer]:  # noqa: F811
    yield from serve(tiny_xtts_dir)


@pytest.fixture
def manifest(tiny_xtts_dir: Path, tmp_path: Path) -> Path:  # noqa: F811
    return write_manifest(tmp_path / "manifest.json", manifest_for(tiny_xtts_dir, CHECKPOINT))


@pytest.fixture
def target(tmp_path: Path) -> Path:
    return tmp_path / "models" / "xtts_v2"


@pytest.fixture
def xtts_on_a_fresh_install(settings, mirror, target, manifest) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """Both engines enabled, the checkpoint folder still empty, the mirror configured."""
    settings.TTS_ENGINES = ["piper", "xtts"]
    settings.XTTS_MODEL_DIR = str(target)
    settings.XTTS_MODEL_URL = mirror.mirror
    settings.XTTS_MODEL_MANIFEST = str(manifest)
    settings.XTTS_DEVICE = "cpu"
    settings.XTTS_THREADS = 1
    reset_registry()
    yield
    reset_registry()
    catalogue._builtin_signature = None
