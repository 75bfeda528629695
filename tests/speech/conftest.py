"""Engine test fixtures: see tests/conftest_engines.py (shared with other folders)."""

from tests.conftest_engines import (  # noqa: F401 - imported fixtures register here
    cloned_voice,
    engine_registry,
    other_cloned_voice,
    piper_engine,
    reference_samples,
    tiny_xtts_dir,
    xtts_engine,
)
