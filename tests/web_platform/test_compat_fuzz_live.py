"""Schemathesis against the live server on the two compatibility families, described by
their vendors' own published documents (docs/openapi/elevenlabs.json and openai.json, cut
by docs/openapi/subset.py): what an ElevenLabs or OpenAI client was generated from is
what Speaker is checked against.

Generation includes what hostile clients send and the generator alone does not: NUL
characters (the generator's default), lone surrogates and values nested hundreds of
levels deep (tests/web_platform/fuzzing/compat_hooks.py). The checks: never a server
error, every answer a documented status with the documented content type and body (the
family's error shape on every refusal), and a request without the key refused.

The vendors' documents state fewer rules than Speaker enforces (an empty text, an
unknown voice, a sample that is not speech are refused), so the checks that a
schema-valid request is accepted, or a schema-invalid one refused, are left to Speaker's
own schema (tests/web_platform/test_schemathesis_live.py), which states every rule."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.live import BIN, ONE_BUSY_CLIENT, ROOT, LiveServer

HERE = Path(__file__).resolve().parent / "fuzzing"
DOCS = ROOT / "docs" / "openapi"
SEED = 20261206
# Per operation in the fuzzing phase; the examples and coverage phases are fixed by the
# documents. Both families together take about a minute here (2 cores).
RUN_TIMEOUT = 240
# The slowest answers are streams of a short generated text, a few seconds; one that
# sends nothing for this long is a failure.
REQUEST_TIMEOUT = 20
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "ignored_auth",
    ]
)
# document, how the key is sent, examples per operation in the fuzzing phase (OpenAI's
# family is two operations: more examples each for the same time).
FAMILIES = {
    "elevenlabs": ("elevenlabs.json", "xi-api-key: {key}", 4),
    "openai": ("openai.json", "Authorization: Bearer {key}", 12),
}


def _accept_the_cloning_attestation(server: LiveServer, key: str) -> None:
    """So that ElevenLabs' voice cloning (no consent field) reaches its form fields."""
    request = urllib.request.Request(
        f"{server.url}/api/v1/cloning-attestation",
        data=json.dumps({"accept": True}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status in (200, 201)


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # type: ignore[no-untyped-def]
    live = LiveServer(tmp_path_factory.mktemp("compat-fuzz"), extra_env=ONE_BUSY_CLIENT).start()
    yield live
    live.stop()


@pytest.mark.timeout(RUN_TIMEOUT + 60)
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_schemathesis_finds_no_failure_on_the_compatible_routes(server, tmp_path, family):
    document, header, max_examples = FAMILIES[family]
    key = server.create_key(f"fuzzer-{family}")
    _accept_the_cloning_attestation(server, key)
    command = [
        str(BIN / "schemathesis"), "--config-file", str(HERE / "compat.toml"),
        "run", str(DOCS / document),
        "--url", server.url,
        "--header", header.format(key=key),
        "--checks", CHECKS,
        "--phases", "examples,coverage,fuzzing",
        "--seed", str(SEED),
        "--max-examples", str(max_examples),
        # A request that hangs costs REQUEST_TIMEOUT: stop after a few failures with a
        # report rather than at RUN_TIMEOUT without one.
        "--max-failures", "3",
        "--workers", "1",
        "--request-timeout", str(REQUEST_TIMEOUT),
        "--no-color",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SCHEMATHESIS_HOOKS": "tests.web_platform.fuzzing.compat_hooks"}
    try:
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        output = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        pytest.fail(f"schemathesis did not finish in {RUN_TIMEOUT}s; its output so far:\n{output[-20000:]}")
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-3000:]
