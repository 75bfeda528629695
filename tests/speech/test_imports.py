"""The speech library stands alone: importing it loads no Django and no model runtime
(torch, coqui-tts, onnxruntime load with a model, on first use)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import sys
import speech, speech.engines, speech.audio, speech.text, speech.encoders
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"django", "torch", "TTS", "onnxruntime"})
assert not loaded, f"importing the speech library loaded {loaded}"
"""


def test_importing_the_speech_library_loads_no_django_and_no_model_runtime() -> None:
    # A fresh interpreter without Django settings, as a script using the library runs.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
