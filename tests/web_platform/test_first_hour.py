"""A newcomer's first hour: the README's commands work as written from a fresh shell, and
one spelling is used for each setting. Its links and the code's pointers into README.md and
docs/ are checked in test_documentation.py."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def tracked_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / name for name in names if (ROOT / name).is_file()]


def readme_section(title: str) -> str:
    match = re.search(rf"^#+ {re.escape(title)}\n(.*?)(?=^#+ |\Z)", README, re.M | re.S)
    assert match, f"README has no section {title!r}"
    return match.group(1)


def test_the_first_api_call_makes_a_key_from_a_fresh_shell(tmp_path):
    # A fresh shell: no virtualenv activated, only the system's PATH.
    block = re.search(r"```bash\n(.*?)```", readme_section("First API call"), re.S)
    assert block
    first_command = block.group(1).splitlines()[0].split("#")[0].strip()
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "AUDIT_LOG_FILE": str(tmp_path / "audit.log"),
    }
    result = subprocess.run(
        ["bash", "-c", first_command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{first_command!r} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    assert re.fullmatch(r"spk_[A-Za-z0-9]+_[A-Za-z0-9_-]+", result.stdout.strip().splitlines()[-1])


def test_make_key_without_a_user_says_how_to_call_it():
    result = subprocess.run(
        ["make", "-s", "key"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "USER": "someone-from-the-environment"},
    )
    assert result.returncode != 0
    assert "make key USER=alice" in result.stderr


def test_coqui_tos_agreed_is_spelled_true_or_false_everywhere():
    spellings = set()
    for path in tracked_files():
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        # A literal value (`=1`, `: "false"`, `${COQUI_TOS_AGREED:-false}`), not code (`= env_bool(...)`).
        literal = r"COQUI_TOS_AGREED\s*[=:]\s*[\"']?(?:\$\{COQUI_TOS_AGREED:-)?([A-Za-z0-9]+)\b"
        spellings |= {value.lower() for value in re.findall(literal, text)}
    assert spellings <= {"true", "false"}, spellings


def test_sqlite_side_files_are_ignored_by_git():
    for name in ("db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm"):
        result = subprocess.run(["git", "check-ignore", "-q", name], cwd=ROOT)
        assert result.returncode == 0, f"{name} is not ignored"
