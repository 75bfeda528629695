"""core.engines: the process-wide engine registry, read from the Django settings."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.conftest_engines import tiny_xtts_dir  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str) -> str:
    """Run code in a fresh interpreter (settings and module state of its own)."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_get_registry_builds_one_registry_from_django_settings(tiny_xtts_dir: Path) -> None:  # noqa: F811
    out = run_python(
        f"""
        from django.conf import settings
        settings.configure(
            TTS_ENGINES=["piper", "xtts"], TTS_DEFAULT_ENGINE="xtts", PIPER_VOICES_DIR="",
            XTTS_MODEL_DIR={str(tiny_xtts_dir)!r}, XTTS_DEVICE="cpu", XTTS_HALF=False,
            XTTS_DEEPSPEED=False, COQUI_TOS_AGREED=False, XTTS_THREADS=2, ENGINE_STARVATION_TURNS=3,
            ENGINE_PARALLEL_TURNS=1,
        )
        from core.engines import get_registry, reset_registry
        first = get_registry()
        print(first is get_registry(), first.available_names(), first.default_name(), first.config.xtts_device)
        print(first.config.xtts_threads, first.engine("piper").scheduler.starvation_turns)
        reset_registry()
        print(get_registry() is not first)
        """
    )
    assert out.splitlines() == ["True ['piper', 'xtts'] xtts cpu", "2 3", "True"]
