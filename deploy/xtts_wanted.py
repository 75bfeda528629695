"""Does this configuration enable voice cloning (XTTS)? Prints `yes` or `no`.

`make run` asks before installing: the platform and Piper always, the XTTS extra
(requirements-xtts.txt: torch, coqui-tts, several GB) only when this says yes. It runs
with the system Python before the virtualenv exists, so it uses the standard library
only and reads the environment and `.env` the way the settings do (real environment
variables win). XTTS is wanted when any of these holds:

* WITH_XTTS=true (`make run WITH_XTTS=true`);
* TTS_ENGINES names xtts, or TTS_DEFAULT_ENGINE is xtts;
* XTTS_MODEL_DIR is set, or COQUI_TOS_AGREED=true;
* a checkpoint was installed in the default folder (var/models/xtts_v2, by
  `python manage.py xtts install`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL_DIR = ROOT / "var" / "models" / "xtts_v2"
_TRUE = {"true", "1", "yes", "on"}


def read_dotenv(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.partition("=")
        value = value.split(" #", 1)[0].strip().strip("\"'")
        values[name.strip().removeprefix("export ").strip()] = value
    return values


def xtts_wanted(environ: dict[str, str], root: Path = ROOT) -> bool:
    env = {**read_dotenv(root / ".env"), **environ}

    def word(name: str) -> str:
        return env.get(name, "").strip().lower()

    engines = {name.strip() for name in word("TTS_ENGINES").split(",")}
    return (
        word("WITH_XTTS") in _TRUE
        or "xtts" in engines
        or word("TTS_DEFAULT_ENGINE") == "xtts"
        or bool(word("XTTS_MODEL_DIR"))
        or word("COQUI_TOS_AGREED") in _TRUE
        or (root / "var" / "models" / "xtts_v2" / "config.json").is_file()
    )


if __name__ == "__main__":
    print("yes" if xtts_wanted(dict(os.environ)) else "no")
    sys.exit(0)
