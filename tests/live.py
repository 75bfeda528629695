"""A real Speaker server for end-to-end tests: `daphne` (and optionally `runengine`
workers) as subprocesses on a free port, with their own SQLite database and media
folder, exactly as `make run` starts it."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


# For a server that one client drives hard (a fuzzer, a benchmark): neither the request
# rate limit nor the quotas are what such a run measures (tests/web_platform/
# test_rate_limit.py and the quota tests are).
ONE_BUSY_CLIENT = {
    "RATE_LIMIT_REQUESTS": "1000000",
    "QUOTA_MAX_ACTIVE_JOBS": "1000",
    "QUOTA_MONTHLY_CHARACTERS": "1000000000",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    workdir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    processes: list[subprocess.Popen] = field(default_factory=list)
    # The checkout whose code runs: this one, or another commit's worktree (bench/compare.py).
    root: Path = ROOT

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
        env.update(
            {
                "DATABASE_URL": f"sqlite:///{self.workdir / 'db.sqlite3'}",
                "REDIS_URL": "",
                "MEDIA_ROOT": str(self.workdir / "media"),
                "AUDIT_LOG_FILE": str(self.workdir / "audit.log"),
                "TTS_ENGINES": "piper",
                "XTTS_MODEL_DIR": "",
                "ALLOWED_HOSTS": "127.0.0.1,localhost",
                "ENVIRONMENT": "development",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    def start(self) -> LiveServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.manage("migrate", "--noinput")
        log = open(self.workdir / "daphne.log", "ab")
        self.processes.append(
            subprocess.Popen(
                [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(self.port), "speaker_site.asgi:application"],
                cwd=self.root,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"daphne did not start:\n{(self.workdir / 'daphne.log').read_text()[-3000:]}")

    def start_worker(self, worker_id: str, **env: str) -> subprocess.Popen:
        log = open(self.workdir / f"{worker_id}.log", "ab")
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runengine", "--worker-id", worker_id],
            cwd=self.root,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def wait_until_ready(self, timeout: float = 120.0) -> None:
        """Until /health/ready says 200: with separate workers, until one is alive and has
        its engines loaded (a stream refuses with 503 before that, by design)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/health/ready", timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:  # urllib raises for the 503 too
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"not ready after {timeout:.0f}s:\n{(self.workdir / 'daphne.log').read_text()[-3000:]}"
                )
            time.sleep(0.5)

    def _query(self, sql: str, params: list[str] | None = None) -> list[tuple]:
        with sqlite3.connect(self.workdir / "db.sqlite3", timeout=30) as db:
            return db.execute(sql, params or []).fetchall()

    def wait_for_workers(self, worker_ids: list[str], engine: str, timeout: float = 180.0) -> None:
        """Until every one of `worker_ids` says in its heartbeat that `engine` is loaded
        (wait_until_ready waits for one worker only)."""
        deadline = time.monotonic() + timeout
        while True:
            loaded = {
                worker_id
                for worker_id, engines in self._query("SELECT worker_id, engines FROM synthesis_workerheartbeat")
                if any(e.get("name") == engine and e.get("loaded") for e in json.loads(engines or "[]"))
            }
            if loaded >= set(worker_ids):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers without {engine} loaded after {timeout:.0f}s: {set(worker_ids) - loaded}")
            time.sleep(0.5)

    def completed_by(self, job_ids: list[str]) -> dict[str, str]:
        """The worker that finished each job (SynthesisJob.completed_by; not in the API)."""
        rows = self._query(
            f"SELECT id, completed_by FROM synthesis_synthesisjob WHERE id IN ({','.join('?' * len(job_ids))})",
            [job_id.replace("-", "") for job_id in job_ids],  # SQLite stores a UUID as 32 hex digits
        )
        by_hex = dict(rows)
        return {job_id: by_hex.get(job_id.replace("-", ""), "") for job_id in job_ids}

    def create_key(self, username: str) -> str:
        return self.manage("createapikey", username, "--create-user").strip().splitlines()[-1]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
