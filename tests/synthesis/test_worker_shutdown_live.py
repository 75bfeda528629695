"""`make run` (daphne with the engine worker inside) stopped in the middle of a job:
Ctrl-C and SIGTERM stop it cleanly and give the job back; a crash leaves the job to the
next start on this host, which takes it over at once instead of after the lease."""

from __future__ import annotations

import signal
import sqlite3
import time
import uuid

import pytest
import requests

from tests.live import LiveServer

LONG_TEXT = " ".join(f"Sentence {n} of a long job that takes a while to speak." for n in range(1, 34))
# Far longer than any wait below: a job picked up in time was requeued at start-up, not
# after its lease ran out.
LONG_LEASE = {"WORKER_LEASE_SECONDS": "600", "WORKER_SWEEP_SECONDS": "0.5"}


def _post_long_job(server: LiveServer, key: str) -> str:
    response = requests.post(
        f"{server.url}/api/v1/synthesis",
        json={"text": LONG_TEXT, "voice": "joe"},
        headers={"X-API-Key": key},
        timeout=30,
    )
    assert response.status_code == 202, response.text
    return response.json()["id"]


def _wait(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _row(server: LiveServer, job_id: str) -> tuple[str, int, str]:
    """(status, attempts, lease_owner), read straight from the server's database (polling
    the API would meet its rate limit)."""
    with sqlite3.connect(server.workdir / "db.sqlite3", timeout=20) as db:
        return db.execute(
            "SELECT status, attempts, lease_owner FROM synthesis_synthesisjob WHERE id = ?", (uuid.UUID(job_id).hex,)
        ).fetchone()


def _running_with_progress(server: LiveServer, job_id: str) -> bool:
    with sqlite3.connect(server.workdir / "db.sqlite3", timeout=20) as db:
        status, progress = db.execute(
            "SELECT status, progress FROM synthesis_synthesisjob WHERE id = ?", (uuid.UUID(job_id).hex,)
        ).fetchone()
    return status == "running" and progress > 0


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_during_a_job_releases_it_and_exits_without_aborting(tmp_path, signum):
    server = LiveServer(tmp_path / "server", extra_env=LONG_LEASE).start()
    try:
        key = server.create_key("carla")
        job_id = _post_long_job(server, key)
        _wait(lambda: _running_with_progress(server, job_id), 120, "the embedded worker to make progress")
        daphne = server.processes[0]
        daphne.send_signal(signum)
        exit_code = daphne.wait(timeout=60)
    finally:
        server.stop()
    log = (server.workdir / "daphne.log").read_text(errors="replace")
    assert exit_code in (0, 130), log[-3000:]
    assert "terminate called" not in log and "Aborted" not in log and "Traceback" not in log, log[-3000:]
    assert _row(server, job_id) == ("queued", 0, "")

    restarted = LiveServer(server.workdir, extra_env=LONG_LEASE).start()
    try:
        _wait(lambda: _row(restarted, job_id)[0] in ("running", "completed"), 60, "the restart to pick the job up")
        assert _row(restarted, job_id)[1] == 1
    finally:
        restarted.stop()


def test_a_restart_takes_over_at_once_the_job_a_crash_left_leased(tmp_path):
    server = LiveServer(tmp_path / "server", extra_env=LONG_LEASE).start()
    try:
        key = server.create_key("dora")
        job_id = _post_long_job(server, key)
        _wait(lambda: _running_with_progress(server, job_id), 120, "the embedded worker to make progress")
        server.processes[0].kill()  # SIGKILL: no chance to release the job
        server.processes[0].wait(timeout=30)
    finally:
        server.stop()
    status, attempts, lease_owner = _row(server, job_id)
    assert (status, attempts) == ("running", 1) and lease_owner

    restarted = LiveServer(server.workdir, extra_env=LONG_LEASE).start()
    try:
        # Well before the 600 s lease: the new process knows the old lease was its host's.
        _wait(lambda: _row(restarted, job_id)[1] == 2, 60, "the restart to take the job over")
        _wait(lambda: _row(restarted, job_id)[0] == "completed", 180, "the job to complete")
    finally:
        restarted.stop()
