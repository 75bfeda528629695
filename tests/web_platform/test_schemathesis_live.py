"""Schemathesis against the live server `make run` starts: every check (server errors,
status codes, content types, headers, response schemas, negative and positive data,
auth, use-after-free, ...), every phase (examples, coverage, fuzzing, stateful), a fixed
seed and a bounded budget. The schema is the contract; 0 failures means the server keeps
it. What a schema cannot say is told to the generator in tests/web_platform/fuzzing/
(schemathesis.toml, hooks.py), each with its reason."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.live import BIN, ROOT, LiveServer

HERE = Path(__file__).resolve().parent / "fuzzing"
SEED = 20261130
MAX_EXAMPLES = 20  # per operation and phase: about 1 300 requests, 1-2 minutes on 2 cores


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # type: ignore[no-untyped-def]
    live = LiveServer(
        tmp_path_factory.mktemp("schemathesis"),
        # The fuzzer is one client making ~1 300 requests: neither the request rate limit
        # nor the monthly quota is what is being tested here (tests/web_platform/test_rate_limit.py is).
        extra_env={"RATE_LIMIT_REQUESTS": "1000000", "QUOTA_MONTHLY_CHARACTERS": "100000000", "QUOTA_MAX_ACTIVE_JOBS": "1000"},
    ).start()
    yield live
    live.stop()


def test_schemathesis_finds_no_failure_in_the_live_api(server, tmp_path):
    key = server.create_key("fuzzer")
    result = subprocess.run(
        [
            str(BIN / "schemathesis"), "--config-file", str(HERE / "schemathesis.toml"),
            "run", f"{server.url}/openapi.json",
            "--header", f"Authorization: Bearer {key}",
            "--checks", "all",
            "--phases", "examples,coverage,fuzzing,stateful",
            "--seed", str(SEED),
            "--max-examples", str(MAX_EXAMPLES),
            "--workers", "1",
            "--request-timeout", "30",
            "--no-color",
            "--report", "junit", "--report-dir", str(tmp_path),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "SCHEMATHESIS_HOOKS": "tests.web_platform.fuzzing.hooks"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-3000:]
