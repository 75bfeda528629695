"""GET /prometheus: django-prometheus and every `tts_*` metric the dashboard and alerts
query, after a real synthesis, with the state gauges refreshed at scrape time."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from engine_host.worker import EngineWorker
from monitoring import metrics
from synthesis.models import SynthesisJob
from tests.deploy.test_dashboard_metrics import PROMETHEUS_SYNTHETIC, metric_names_used_by_deploy
from tests.monitoring.test_health_detail_endpoint import FakeNVML, use_nvml  # noqa: F401  (fixture)
from voices.models import Voice

# Transactional: the engine worker calls close_old_connections() like the real loop, which
# on PostgreSQL closes a connection held inside a test's wrapping transaction.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("piper_only")]

FIFTEEN_WORDS = "Speaker reads this sentence aloud so that the dashboard can see fifteen words at once."
Labels = tuple[tuple[str, str], ...]


def scrape(client: Any, **headers: str) -> dict[tuple[str, Labels], float]:
    response = client.get("/prometheus", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return samples(response.content.decode())


def samples(text: str) -> dict[tuple[str, Labels], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def names(scraped: dict[tuple[str, Labels], float]) -> set[str]:
    return {name for name, _ in scraped}


def value(scraped: dict[tuple[str, Labels], float], name: str, **labels: str) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def synthesis_done(owner_api, use_nvml) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """One real 15-word job and one that fails, run by an in-process engine worker, on a
    host with one (fake) GPU. Returns the scrape from before, to compare against."""
    use_nvml(FakeNVML())
    before = scrape(owner_api)
    ok = owner_api.post("/api/v1/synthesis", {"text": FIFTEEN_WORDS, "voice": "joe", "language": "en"}, format="json")
    doomed = owner_api.post(
        "/api/v1/synthesis", {"text": "Never spoken.", "voice": "joe", "language": "en"}, format="json"
    )
    assert ok.status_code == 202 and doomed.status_code == 202
    # The voice went away while the job waited (a user deleting their voice): it fails.
    SynthesisJob.objects.filter(pk=doomed.json()["id"]).update(voice=None)
    worker = EngineWorker(worker_id="prometheus-test")
    while worker.run_once():
        pass
    assert SynthesisJob.objects.get(pk=ok.json()["id"]).status == "completed"
    assert SynthesisJob.objects.get(pk=doomed.json()["id"]).status == "failed"
    return before


def test_it_exposes_every_exported_tts_metric_after_a_synthesis(owner_api, synthesis_done):
    exposed = names(scrape(owner_api))
    missing = [
        name
        for name in metrics.EXPORTED_METRIC_NAMES
        if (f"{name}_bucket" if name in metrics.HISTOGRAM_NAMES else name) not in exposed
    ]
    assert not missing


def test_it_exposes_every_series_the_dashboard_and_alerts_query(owner_api, synthesis_done):
    exposed = names(scrape(owner_api))
    wanted = metric_names_used_by_deploy() - PROMETHEUS_SYNTHETIC  # `up` is Prometheus' own
    assert wanted - exposed == set()


def test_a_fifteen_word_job_lands_in_the_eleven_to_twenty_five_word_range(owner_api, synthesis_done):
    after = scrape(owner_api)
    series = "tts_word_count_duration_seconds_count"
    for word_range in metrics.WORD_RANGES:
        added = value(after, series, engine="piper", word_range=word_range) - value(
            synthesis_done, series, engine="piper", word_range=word_range
        )
        assert added == (1.0 if word_range == "11-25" else 0.0), word_range
    assert value(after, "tts_character_count_duration_seconds_count", engine="piper", char_range="51-200") >= 1


def test_the_request_and_error_counters_count_the_outcomes(owner_api, synthesis_done):
    after = scrape(owner_api)
    success = dict(endpoint="job", engine="piper", voice="joe", language="en", status="success")
    assert value(after, "tts_requests_total", **success) - value(synthesis_done, "tts_requests_total", **success) == 1
    errors = value(after, "tts_errors_total", type="engine_error") - value(
        synthesis_done, "tts_errors_total", type="engine_error"
    )
    assert errors == 1
    assert value(after, "tts_realtime_factor_count", engine="piper") >= 1
    assert value(after, "tts_time_to_first_audio_seconds_count", engine="piper", mode="job") >= 1


def test_model_load_time_and_gpu_memory_are_refreshed_at_scrape_time(owner_api, synthesis_done):
    after = scrape(owner_api)
    assert value(after, "tts_model_load_seconds", engine="piper") > 0
    assert value(after, "tts_gpu_memory_used_bytes", gpu="0") == 30 * 2**30
    assert value(after, "tts_gpu_memory_total_bytes", gpu="0") == 80 * 2**30
    assert 0 < value(after, "tts_system_memory_usage_bytes")
    assert 0 <= value(after, "tts_system_cpu_usage_percent") <= 100


def test_django_prometheus_request_metrics_are_there_too(owner_api, synthesis_done):
    exposed = names(scrape(owner_api))
    assert {"django_http_requests_total_by_method_total", "django_http_responses_total_by_status_total"} <= exposed


def test_queue_and_voice_gauges_are_read_from_the_database_at_scrape_time(owner_api, owner):
    for seconds_ago in (120, 10):
        job = SynthesisJob.objects.create(
            owner=owner, voice_name="joe", voice_builtin=True, engine="piper", language="en", text="wait"
        )
        SynthesisJob.objects.filter(pk=job.pk).update(queued_at=timezone.now() - timedelta(seconds=seconds_ago))
    Voice.objects.create(owner=owner, name="Ready one", language="en", engine="xtts", status="ready")
    Voice.objects.create(owner=owner, name="Not yet", language="en", engine="xtts", status="processing")
    scraped = scrape(owner_api)
    assert value(scraped, "tts_queue_depth") == 2
    assert 120 <= value(scraped, "tts_queue_oldest_age_seconds") < 130
    assert value(scraped, "tts_active_voices") == Voice.objects.filter(status="ready").count()

    SynthesisJob.objects.filter(status="queued").update(status="cancelled")
    scraped = scrape(owner_api)
    assert value(scraped, "tts_queue_depth") == 0 and value(scraped, "tts_queue_oldest_age_seconds") == 0


def test_on_a_host_without_a_gpu_there_is_no_gpu_series_rather_than_a_zero(owner_api, use_nvml):
    use_nvml(FakeNVML(init_error="Driver Not Loaded"))
    gauges = [metrics.GPU_MEMORY_USED, metrics.GPU_MEMORY_TOTAL]
    children = [dict(gauge._metrics) for gauge in gauges]
    for gauge in gauges:
        gauge.clear()  # forget GPUs an earlier test's fake host had
    try:
        scraped = scrape(owner_api)
        assert not {"tts_gpu_memory_used_bytes", "tts_gpu_memory_total_bytes"} & names(scraped)
    finally:
        for gauge, saved in zip(gauges, children, strict=False):
            gauge._metrics.update(saved)


def test_the_worker_metrics_port_refreshes_the_same_gauges_before_each_scrape(owner):
    # What `serve_worker_metrics` serves: the registry wrapped with the refresher that
    # monitoring.apps installs. Scraped from another thread, as its HTTP server does.
    SynthesisJob.objects.create(
        owner=owner, voice_name="joe", voice_builtin=True, engine="piper", language="en", text="a"
    )
    registry = metrics._refreshing_registry(metrics.registry_for_scrape())
    bodies: list[bytes] = []
    thread = threading.Thread(target=lambda: bodies.append(generate_latest(registry)))
    thread.start()
    thread.join(30)
    assert value(samples(bodies[0].decode()), "tts_queue_depth") == 1


def test_a_refresher_that_fails_does_not_break_the_workers_scrape(monkeypatch):
    def broken() -> None:
        raise RuntimeError("database down")

    monkeypatch.setattr(metrics, "_scrape_refresher", broken)
    body = generate_latest(metrics._refreshing_registry(metrics.registry_for_scrape())).decode()
    assert "tts_requests_total" in body or "tts_requests" in body


def test_a_scrape_by_pod_ip_is_answered_and_still_needs_the_token(client, settings):
    # Prometheus' Kubernetes pod discovery scrapes 10.x.y.z:8010 with that as the Host.
    settings.METRICS_TOKEN = "scrape-token"
    settings.METRICS_ALLOWED_IPS = []
    assert client.get("/prometheus", HTTP_HOST="10.244.1.17:8010").status_code == 401
    response = client.get("/prometheus", HTTP_HOST="10.244.1.17:8010", HTTP_AUTHORIZATION="Bearer scrape-token")
    assert response.status_code == 200 and b"tts_queue_depth" in response.content


def test_in_multiprocess_mode_a_live_server_exposes_its_synthesis_and_fresh_gauges(tmp_path):
    """daphne as containers run it (PROMETHEUS_MULTIPROC_DIR set), with the embedded
    worker: the job's samples and the scrape-time gauges come from the shared files."""
    import time

    import requests

    from tests.live import LiveServer

    multiproc = tmp_path / "prometheus-multiproc"
    multiproc.mkdir()
    server = LiveServer(tmp_path / "live", extra_env={"PROMETHEUS_MULTIPROC_DIR": str(multiproc)}).start()
    try:
        headers = {"X-API-Key": server.create_key("scraper")}
        job = requests.post(
            f"{server.url}/api/v1/synthesis", json={"text": FIFTEEN_WORDS, "voice": "joe"}, headers=headers, timeout=30
        ).json()
        deadline = time.monotonic() + 120
        while (
            requests.get(f"{server.url}/api/v1/synthesis/{job['id']}", headers=headers, timeout=30).json()["status"]
            != "completed"
        ):
            assert time.monotonic() < deadline, "the embedded worker did not finish the job"
            time.sleep(0.3)
        scraped = samples(requests.get(f"{server.url}/prometheus", timeout=30).text)
    finally:
        server.stop()
    assert value(scraped, "tts_word_count_duration_seconds_count", engine="piper", word_range="11-25") == 1
    assert (
        value(
            scraped, "tts_requests_total", endpoint="job", engine="piper", voice="joe", language="en", status="success"
        )
        == 1
    )
    assert value(scraped, "tts_model_load_seconds", engine="piper") > 0
    assert ("tts_queue_depth", ()) in scraped and value(scraped, "tts_active_voices") >= 1
    assert any(path.name.startswith("gauge_livemostrecent_") for path in multiproc.iterdir())
