"""GET /health/ready: database, cache, channel layer, a live engine worker with a loaded
engine. 503 names every failing part."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.db import OperationalError, connections
from django.utils import timezone

from synthesis.models import SynthesisJob, WorkerHeartbeat

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]

PIPER_LOADED = [{"name": "piper", "available": True, "loaded": True, "load_seconds": 0.42, "device": "cpu"}]


def heartbeat(
    worker_id: str = "gpu-1:100:abc",
    *,
    seconds_ago: float = 1.0,
    engines: list[dict[str, Any]] | None = None,
    current_job: Any = None,
) -> WorkerHeartbeat:
    """A heartbeat row as a `runengine` process on another host writes it."""
    now = timezone.now()
    return WorkerHeartbeat.objects.create(
        worker_id=worker_id,
        hostname=worker_id.split(":")[0],
        pid=100,
        started_at=now - timedelta(hours=1),
        last_seen=now - timedelta(seconds=seconds_ago),
        engines=PIPER_LOADED if engines is None else engines,
        current_job=current_job,
    )


def test_it_is_ready_with_a_fresh_worker_heartbeat(client):
    heartbeat(seconds_ago=2)
    response = client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready" and body["failing"] == []
    assert set(body["checks"]) == {"database", "cache", "channel_layer", "workers", "engines"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["workers"]["alive"] == 1
    assert body["checks"]["engines"]["loaded"] == ["piper"]


def test_it_is_not_ready_when_no_worker_ever_reported(client):
    response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    assert body["failing"] == ["workers", "engines"]
    assert "none has ever reported" in body["checks"]["workers"]["error"]
    # The infrastructure is fine, and the body says so.
    assert body["checks"]["database"]["ok"] and body["checks"]["cache"]["ok"] and body["checks"]["channel_layer"]["ok"]


def test_it_is_not_ready_when_the_only_heartbeat_is_older_than_the_max_age(client, settings):
    settings.WORKER_HEARTBEAT_MAX_AGE = 30
    heartbeat(seconds_ago=31)
    body = client.get("/health/ready").json()
    assert body["failing"] == ["workers", "engines"]
    assert body["checks"]["workers"] | {"ms": 0} == {
        "ok": False,
        "alive": 0,
        "stale": 1,
        "heartbeat_max_age_seconds": 30,
        "embedded": settings.EMBEDDED_WORKER,
        "error": "no engine worker has sent a heartbeat in the last 30s",
        "ms": 0,
    }


def test_one_fresh_worker_is_enough_among_stale_ones(client):
    heartbeat("old-host:1:a", seconds_ago=3600)
    heartbeat("new-host:2:b", seconds_ago=1)
    body = client.get("/health/ready").json()
    assert body["status"] == "ready"
    assert body["checks"]["workers"]["alive"] == 1 and body["checks"]["workers"]["stale"] == 1


def test_a_busy_worker_renewing_its_lease_counts_as_alive(client, owner):
    # Workers heartbeat between jobs; during a long job the renewed lease is the sign of life.
    job = SynthesisJob.objects.create(
        owner=owner, voice_name="joe", voice_builtin=True, engine="piper", language="en", text="long",
        status=SynthesisJob.Status.RUNNING, lease_owner="busy:1:a",
        lease_expires_at=timezone.now() + timedelta(seconds=50),
    )  # fmt: skip
    heartbeat("busy:1:a", seconds_ago=300, current_job=job.pk)
    assert client.get("/health/ready").status_code == 200

    SynthesisJob.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/health/ready").json()["failing"] == ["workers", "engines"]


def test_a_worker_whose_engines_failed_to_load_is_not_enough(client):
    heartbeat(engines=[{"name": "piper", "available": True, "loaded": False, "load_seconds": None, "device": "cpu"}])
    body = client.get("/health/ready").json()
    assert body["failing"] == ["engines"]
    assert body["checks"]["engines"]["error"] == "no live engine worker has an engine loaded"


def test_it_names_the_cache_when_a_value_does_not_come_back(client, monkeypatch):
    class ForgetfulCache:
        def set(self, *args: Any, **kwargs: Any) -> None: ...
        def get(self, *args: Any, **kwargs: Any) -> None: ...
        def delete(self, *args: Any, **kwargs: Any) -> None: ...

    monkeypatch.setattr("ops.readiness.cache", ForgetfulCache())
    heartbeat()
    response = client.get("/health/ready")
    assert response.status_code == 503 and response.json()["failing"] == ["cache"]


def test_it_names_the_channel_layer_when_there_is_none(client, monkeypatch):
    monkeypatch.setattr("ops.readiness.get_channel_layer", lambda *args, **kwargs: None)
    heartbeat()
    body = client.get("/health/ready").json()
    assert body["failing"] == ["channel_layer"]
    assert body["checks"]["channel_layer"]["error"] == "no channel layer is configured"


def test_a_database_outage_fails_the_database_and_the_worker_checks_without_leaking_details(client, monkeypatch):
    def unreachable() -> None:
        raise OperationalError('could not connect to server at "db.internal" (10.0.0.5), port 5432')

    heartbeat()
    monkeypatch.setattr(connections["default"], "cursor", unreachable)
    response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["database", "workers", "engines"]
    assert body["checks"]["database"]["error"] == "OperationalError"
    assert "db.internal" not in response.content.decode()


def test_it_only_answers_get_and_is_never_cached(client):
    heartbeat()
    assert client.post("/health/ready").status_code == 405
    assert "no-cache" in client.get("/health/ready")["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_in_embedded_mode_the_embedded_workers_heartbeat_counts(client, settings):
    from engine_host.hosting import start_embedded_worker, stop_embedded_worker

    settings.EMBEDDED_WORKER = True
    assert client.get("/health/ready").status_code == 503
    worker = start_embedded_worker()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and client.get("/health/ready").status_code != 200:
            time.sleep(0.2)
        body = client.get("/health/ready").json()
        assert body["status"] == "ready", body
        assert body["checks"]["workers"]["embedded"] is True
        assert WorkerHeartbeat.objects.get().worker_id == worker.worker_id
    finally:
        stop_embedded_worker()
    # A worker that stops takes its heartbeat with it.
    assert client.get("/health/ready").json()["failing"] == ["workers", "engines"]


def test_a_kubelet_probe_with_the_pod_ip_as_host_is_answered(client):
    # The kubelet sends Host: <pod IP>:<port>, which is not in ALLOWED_HOSTS.
    heartbeat()
    assert client.get("/health", HTTP_HOST="10.244.1.17:8010").status_code == 200
    assert client.get("/health/ready", HTTP_HOST="10.244.1.17:8010").status_code == 200
    # Everything else still refuses a Host that is not allowed.
    assert client.get("/api/v1/health", HTTP_HOST="10.244.1.17:8010").status_code == 400
