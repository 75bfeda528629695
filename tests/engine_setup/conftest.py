"""Engine set-up test fixtures: the voices' own (a voice cloned from real Piper speech,
waiting for XTTS) and the tiny checkpoint served as a mirror (tests/xtts_install_fixtures.py)."""

from tests.conftest_engines import piper_engine, tiny_xtts_dir  # noqa: F401 - imported fixtures register here
from tests.voices.conftest import create_voice, piper_speech, piper_speech_wav, speech_upload  # noqa: F401
from tests.xtts_install_fixtures import manifest, mirror, target, xtts_on_a_fresh_install  # noqa: F401
