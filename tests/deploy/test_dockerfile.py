"""Dockerfile, .dockerignore, and the two scripts the image runs (entrypoint, healthcheck).

There is no Docker engine here: the Dockerfile is read as text, the ignore rules are
evaluated the way Docker does, and the scripts are run directly.
"""

from __future__ import annotations

import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"
HEALTHCHECK = REPO_ROOT / "deploy" / "healthcheck.py"
ENTRYPOINT = REPO_ROOT / "deploy" / "docker-entrypoint.sh"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        logical.append(current)
        current = ""
    result = []
    for text in logical:
        keyword, _, rest = text.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


INSTRUCTIONS = _instructions()


def _all(keyword: str) -> list[str]:
    return [args for kw, args in INSTRUCTIONS if kw == keyword]


def test_it_builds_on_python_311_slim() -> None:
    assert _all("FROM") == ["python:3.11-slim"]


def test_it_installs_the_pinned_requirements_and_collects_static_files() -> None:
    runs = " && ".join(_all("RUN"))
    assert "pip install -r requirements.txt" in runs
    assert "collectstatic --noinput" in runs
    assert "curl" not in runs and "wget" not in runs
    copies = _all("COPY")
    # requirements before the code: editing code must not reinstall torch.
    assert copies[0].split()[0] == "requirements.txt"


def test_it_runs_as_a_non_root_user() -> None:
    users = _all("USER")
    assert users and users[-1] not in ("root", "0")
    last_user = max(i for i, (kw, _) in enumerate(INSTRUCTIONS) if kw == "USER")
    # Nothing after USER may need root.
    assert all(kw != "RUN" for kw, _ in INSTRUCTIONS[last_user:])


def test_it_checks_health_with_python_not_curl() -> None:
    [healthcheck] = _all("HEALTHCHECK")
    assert "deploy/healthcheck.py" in healthcheck and "curl" not in healthcheck
    assert "--interval=" in healthcheck and "--start-period=" in healthcheck


def test_it_serves_the_web_by_default_through_the_entrypoint() -> None:
    [entrypoint] = _all("ENTRYPOINT")
    assert "tini" in entrypoint and "docker-entrypoint.sh" in entrypoint
    [cmd] = _all("CMD")
    assert "daphne" in cmd and '"8010"' in cmd and "speaker_site.asgi:application" in cmd
    assert "8010" in " ".join(_all("EXPOSE"))
    assert os.access(ENTRYPOINT, os.X_OK), "deploy/docker-entrypoint.sh must be executable"


def test_it_keeps_no_build_time_secret_in_the_environment() -> None:
    env_text = " ".join(_all("ENV"))
    assert "SECRET_KEY" not in env_text and "ALLOWED_HOSTS" not in env_text
    assert "ENVIRONMENT=production" in env_text
    assert "PROMETHEUS_MULTIPROC_DIR=" in env_text and "EMBEDDED_WORKER=false" in env_text


# --- .dockerignore ---------------------------------------------------------------------
def _ignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for line in (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:] if negate else line
        pattern = pattern.strip("/")
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex += "(?:.*/)?"
                i += 3
            elif pattern.startswith("**", i):
                regex += ".*"
                i += 2
            elif pattern[i] == "*":
                regex += "[^/]*"
                i += 1
            elif pattern[i] == "?":
                regex += "[^/]"
                i += 1
            else:
                regex += re.escape(pattern[i])
                i += 1
        rules.append((negate, re.compile(regex + "$")))
    return rules


def is_ignored(path: str) -> bool:
    """Docker's rule: the last matching pattern wins; a matched directory takes its contents."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for negate, regex in _ignore_rules():
        if any(regex.match(candidate) for candidate in candidates):
            ignored = not negate
    return ignored


@pytest.mark.parametrize(
    "path",
    [
        "requirements.txt",
        "manage.py",
        "speaker_site/settings.py",
        "monitoring/metrics.py",
        "deploy/healthcheck.py",
        "deploy/docker-entrypoint.sh",
        ".env.example",
    ],
)
def test_the_build_context_keeps_what_the_image_needs(path: str) -> None:
    assert not is_ignored(path)


@pytest.mark.parametrize(
    "path",
    [
        ".env",
        ".env.production",
        ".git/config",
        ".venv/bin/python",
        "db.sqlite3",
        "media/voices/sample.wav",
        "synthesis/__pycache__/x.cpython-311.pyc",
        "models/model.pth",
        "deploy/k8s/secret.yaml",
        "tests/conftest.py",
    ],
)
def test_the_build_context_leaves_out_secrets_and_local_state(path: str) -> None:
    assert is_ignored(path)


# --- entrypoint ------------------------------------------------------------------------
def test_the_entrypoint_empties_the_multiprocess_directory_then_runs_the_command(tmp_path: Path) -> None:
    multiproc = tmp_path / "prom"
    multiproc.mkdir()
    (multiproc / "counter_123.db").write_bytes(b"stale")
    (multiproc / "sub").mkdir()
    done = subprocess.run(
        ["sh", str(ENTRYPOINT), "sh", "-c", 'ls -A "$PROMETHEUS_MULTIPROC_DIR" | wc -l; echo ran'],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(multiproc)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "ran"]


def test_the_entrypoint_creates_a_missing_multiprocess_directory(tmp_path: Path) -> None:
    multiproc = tmp_path / "missing" / "prom"
    done = subprocess.run(
        ["sh", str(ENTRYPOINT), "true"],
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(multiproc)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert multiproc.is_dir()


# --- healthcheck -----------------------------------------------------------------------
class _Handler(http.server.BaseHTTPRequestHandler):
    hosts: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        type(self).hosts.append(self.headers.get("Host", ""))
        status = {"/health": 200, "/health/ready": 503}.get(self.path, 404)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def local_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _healthcheck(*args: str) -> int:
    return subprocess.run([sys.executable, str(HEALTHCHECK), *args], capture_output=True, timeout=30).returncode


def test_the_healthcheck_passes_on_2xx_and_sends_host_localhost(local_server: str) -> None:
    _Handler.hosts.clear()
    assert _healthcheck(f"{local_server}/health") == 0
    assert _Handler.hosts == ["localhost"]


def test_the_healthcheck_fails_on_errors_and_closed_ports(local_server: str) -> None:
    assert _healthcheck(f"{local_server}/health/ready") == 1
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    assert _healthcheck(f"http://127.0.0.1:{closed_port}/health") == 1


@pytest.mark.skipif(shutil.which("sh") is None, reason="no POSIX shell")
def test_the_entrypoint_is_posix_sh() -> None:
    assert ENTRYPOINT.read_text(encoding="utf-8").startswith("#!/bin/sh\n")
    assert subprocess.run(["sh", "-n", str(ENTRYPOINT)], timeout=30).returncode == 0
