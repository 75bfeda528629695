"""POST /api/v1/synthesis/stream with separate engine workers (PostgreSQL + Redis,
daphne and `runengine` as real processes): a stream never hangs. With no live worker
it is refused at once; a worker killed mid-stream ends the response in bounded time
and the job fails with `worker_lost`."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import requests
from django.db import connection

from synthesis.models import SynthesisJob, WorkerHeartbeat
from tests.live import LiveServer

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
LONG_TEXT = " ".join(f"Sentence {n} of a long stream that takes a while to speak." for n in range(1, 30))


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _split_server(workdir: Path, **env: str) -> LiveServer:
    """daphne without an engine inside, on this test's PostgreSQL database and Redis."""
    return LiveServer(
        workdir,
        extra_env={
            "DATABASE_URL": _database_url(),
            "REDIS_URL": os.environ.get("REDIS_URL", ""),
            "EMBEDDED_WORKER": "false",
            "CHANNEL_PREFIX": f"speaker-test-{os.getpid()}-{workdir.name}",
            "WORKER_SWEEP_SECONDS": "0.3",
            **env,
        },
    ).start()


def _wait(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _stream(server: LiveServer, key: str, text: str) -> requests.Response:
    # The read timeout is far above the bound the server must keep: a hanging stream
    # fails the test with ReadTimeout instead of blocking it.
    return requests.post(
        f"{server.url}/api/v1/synthesis/stream",
        json={"text": text, "voice": "joe", "format": "pcm"},
        headers={"X-API-Key": key},
        stream=True,
        timeout=(10, 45),
    )


def _kill_the_worker_mid_stream(server: LiveServer, key: str) -> tuple[str, float]:
    worker = server.start_worker("doomed")
    _wait(lambda: WorkerHeartbeat.objects.filter(worker_id="doomed").exists(), 120, "the worker's first heartbeat")
    response = _stream(server, key, LONG_TEXT)
    assert response.status_code == 200, response.text
    chunks = response.iter_content(chunk_size=None)
    assert len(next(chunks)) > 0  # the worker is relaying audio
    worker.kill()  # SIGKILL: no release, no stream.end
    worker.wait(timeout=10)
    killed_at = time.monotonic()
    b"".join(chunks)  # the server must end the body by itself
    return response.headers["X-Job-ID"], time.monotonic() - killed_at


def test_a_stream_without_a_live_worker_is_refused_at_once_with_retry_after(tmp_path):
    server = _split_server(tmp_path / "no-worker")
    try:
        key = server.create_key("nina")
        started = time.monotonic()
        response = _stream(server, key, "Nobody will speak this.")
        assert time.monotonic() - started < 10
    finally:
        server.stop()
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    assert response.json()["error"]["code"] == "service_unavailable"
    assert not SynthesisJob.objects.exists()  # nothing left queued for a worker that is not there


def test_a_worker_killed_mid_stream_ends_the_response_within_the_idle_timeout(tmp_path):
    server = _split_server(tmp_path / "idle", STREAM_IDLE_TIMEOUT="3", WORKER_LEASE_SECONDS="120")
    try:
        key = server.create_key("ivan")
        job_id, ended_after = _kill_the_worker_mid_stream(server, key)
    finally:
        server.stop()
    assert ended_after < 3 + 5
    failed = SynthesisJob.objects.get(pk=job_id)
    assert failed.status == "failed" and failed.error_code == "worker_lost"
    assert "STREAM_IDLE_TIMEOUT" in failed.error_message


def test_a_worker_killed_mid_stream_ends_the_response_when_its_lease_runs_out(tmp_path):
    server = _split_server(tmp_path / "lease", STREAM_IDLE_TIMEOUT="120", WORKER_LEASE_SECONDS="3")
    try:
        key = server.create_key("lena")
        job_id, ended_after = _kill_the_worker_mid_stream(server, key)
    finally:
        server.stop()
    assert ended_after < 3 + 5  # the lease, not the two-minute idle timeout
    failed = SynthesisJob.objects.get(pk=job_id)
    assert failed.status == "failed" and failed.error_code == "worker_lost"
    assert "lease" in failed.error_message
