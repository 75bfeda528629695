"""GET /metrics: request counts, rates, timings and usage from the database, so that every
web process answers the same for jobs that any process queued and any worker ran."""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from synthesis.models import SynthesisJob
from tests.live import LiveServer, free_port

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]


def finished_job(owner: Any, *, status: str = "completed", voice: str = "joe", builtin: bool = True,
                 language: str = "en", error_code: str = "", synthesis: float | None = 1.0,
                 audio: float | None = 4.0, first_audio: float | None = 0.2, waited: float = 3.0,
                 minutes_ago: float = 10) -> SynthesisJob:  # fmt: skip
    """A job row as a worker process leaves it when it is done."""
    queued_at = timezone.now() - timedelta(minutes=minutes_ago)
    job = SynthesisJob.objects.create(
        owner=owner, voice_name=voice, voice_builtin=builtin, engine="piper", language=language, text="x",
        status=status, error_code=error_code, word_count=5, character_count=30,
        synthesis_seconds=synthesis if status == "completed" else None,
        audio_duration=audio if status == "completed" else None,
        time_to_first_audio=first_audio if status == "completed" else None,
        finished_at=queued_at + timedelta(seconds=waited) if status != "queued" else None,
    )  # fmt: skip
    SynthesisJob.objects.filter(pk=job.pk).update(queued_at=queued_at)
    return job


def test_an_empty_service_reports_zeros_and_no_rates(client):
    body = client.get("/metrics").json()
    assert body["total_requests"] == 0 and body["requests_per_minute"] == 0
    assert body["success_rate"] is None and body["average_response_time"] is None
    assert body["voice_usage"] == {} and body["error_counts"] == {}


def test_it_counts_outcomes_rates_timings_and_usage(client, owner):
    finished_job(owner, synthesis=1.0, audio=4.0, first_audio=0.2, waited=3.0)
    finished_job(owner, synthesis=3.0, audio=4.0, first_audio=0.4, waited=5.0, language="de")
    finished_job(owner, voice="Grandpa", builtin=False, synthesis=2.0, audio=8.0, first_audio=0.3, waited=4.0)
    finished_job(owner, status="failed", error_code="engine_error")
    finished_job(owner, status="failed", error_code="engine_error", language="de")
    finished_job(owner, status="failed", error_code="voice_not_ready", voice="Grandpa", builtin=False)
    finished_job(owner, status="cancelled")
    finished_job(owner, status="queued", minutes_ago=0.2)
    body = client.get("/metrics").json()
    assert body["source"] == "database"
    assert body["total_requests"] == 8
    assert (body["successful_requests"], body["failed_requests"], body["cancelled_requests"]) == (3, 3, 1)
    assert (body["queued_requests"], body["running_requests"]) == (1, 0)
    # Rates over decided requests (a cancellation is neither a success nor a failure).
    assert body["success_rate"] == 0.5 and body["failure_rate"] == 0.5
    assert body["average_response_time"] == pytest.approx(4.0)  # queued -> finished
    assert body["average_synthesis_time"] == pytest.approx(2.0)
    assert body["average_time_to_first_audio"] == pytest.approx(0.3)
    assert body["realtime_factor"] == pytest.approx(6.0 / 16.0)
    assert body["requests_per_minute"] == 1
    assert body["words_synthesized"] == 15 and body["characters_synthesized"] == 90
    # Users' voice names never appear: their voices count as "custom".
    assert body["voice_usage"] == {"custom": 2, "joe": 6}
    assert body["language_usage"] == {"de": 2, "en": 6}
    assert body["engine_usage"] == {"piper": 8}
    assert body["error_counts"] == {"engine_error": 2, "voice_not_ready": 1}


def test_requests_per_minute_counts_only_the_last_minute(client, owner):
    for minutes_ago in (0.1, 0.5, 0.9, 1.5, 30):
        finished_job(owner, minutes_ago=minutes_ago)
    assert client.get("/metrics").json()["requests_per_minute"] == 3


def test_api_requests_through_this_process_show_up(owner_api):
    text = "Hello from the metrics test."
    for _ in range(3):
        assert owner_api.post("/api/v1/synthesis", {"text": text, "voice": "joe"}, format="json").status_code == 202
    body = owner_api.get("/metrics").json()
    assert body["total_requests"] == 3 and body["queued_requests"] == 3 and body["requests_per_minute"] == 3
    assert body["voice_usage"] == {"joe": 3} and body["language_usage"] == {"en": 3}


# ------------------------------------------------------------------ several processes, for real

TOKEN = "live-metrics-token"


def _http(url: str, *, token: str | None = None, body: dict[str, Any] | None = None, key: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if key:
        headers["X-API-Key"] = key
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read().decode()
        return json.loads(raw) if response.headers.get_content_type() == "application/json" else raw


def _wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def live(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A real web process (daphne) with no worker of its own; workers are started apart."""
    server = LiveServer(
        tmp_path / "live",
        extra_env={"EMBEDDED_WORKER": "false", "WORKER_SWEEP_SECONDS": "0.3", "METRICS_TOKEN": TOKEN},
    ).start()
    yield server
    server.stop()


def test_metrics_count_jobs_queued_by_the_web_process_and_run_by_two_worker_processes(live):
    key = live.create_key("metrics-user")

    def post(text: str) -> str:
        return _http(f"{live.url}/api/v1/synthesis", body={"text": text, "voice": "joe", "language": "en"}, key=key)[
            "id"
        ]

    def metrics() -> dict[str, Any]:
        return _http(f"{live.url}/metrics", token=TOKEN)

    with pytest.raises(urllib.error.HTTPError) as refused:
        _http(f"{live.url}/metrics")
    assert refused.value.code == 401

    first = [post(f"First batch, job number {n}.") for n in range(3)]
    assert metrics()["queued_requests"] == 3  # nobody runs them yet

    alpha = live.start_worker("alpha")
    _wait_for(lambda: metrics()["successful_requests"] == 3, 180, "worker alpha to run the first three jobs")
    alpha.terminate()
    assert alpha.wait(timeout=60) == 0

    beta_port = free_port()
    live.start_worker("beta", WORKER_METRICS_PORT=str(beta_port))
    second = [post(f"The second batch has job number {n}, a little longer than the first ones.") for n in range(2)]
    _wait_for(lambda: metrics()["successful_requests"] == 5, 180, "worker beta to run the next two jobs")

    body = metrics()
    assert body["total_requests"] == 5 and body["failed_requests"] == 0 and body["queued_requests"] == 0
    assert body["success_rate"] == 1.0 and body["failure_rate"] == 0.0
    assert body["requests_per_minute"] == 5
    assert body["voice_usage"] == {"joe": 5} and body["language_usage"] == {"en": 5}
    assert body["average_synthesis_time"] > 0 and body["average_response_time"] >= body["average_synthesis_time"]
    # Two workers really did the work, and the web process that answered did none of it.
    with sqlite3.connect(live.workdir / "db.sqlite3") as db:
        done_by = dict(db.execute("SELECT id, completed_by FROM synthesis_synthesisjob").fetchall())
    assert {done_by[job_id.replace("-", "")] for job_id in first} == {"alpha"}
    assert {done_by[job_id.replace("-", "")] for job_id in second} == {"beta"}

    # The worker's own metrics port: its generations, with the DB gauges refreshed too.
    exposition = _http(f"http://127.0.0.1:{beta_port}/metrics")
    scraped = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }
    assert scraped[("tts_word_count_duration_seconds_count", (("engine", "piper"), ("word_range", "11-25")))] == 2
    assert scraped[("tts_queue_depth", ())] == 0
    assert scraped[("tts_model_load_seconds", (("engine", "piper"),))] > 0
    assert ("tts_system_memory_usage_bytes", ()) in scraped
