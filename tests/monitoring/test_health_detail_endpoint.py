"""GET /api/v1/health: host figures, GPU (or "not available"), engines, voices, queue and
engine workers. Open when API_KEY_REQUIRED is false, authenticated otherwise."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from ops import system
from synthesis.models import SynthesisJob
from tests.monitoring.test_health_ready_endpoint import heartbeat
from voices.models import Voice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]


class NVMLError(Exception):
    pass


class FakeNVML(SimpleNamespace):
    """Stands in for the `pynvml` module: one H100, or a driver that is not there."""

    NVML_TEMPERATURE_GPU = 0
    NVMLError = NVMLError

    def __init__(self, *, init_error: str | None = None, utilisation_error: bool = False) -> None:
        super().__init__()
        self.init_error = init_error
        self.utilisation_error = utilisation_error
        self.inits = 0

    def nvmlInit(self) -> None:
        self.inits += 1
        if self.init_error:
            raise NVMLError(self.init_error)

    def nvmlDeviceGetCount(self) -> int:
        return 1

    def nvmlDeviceGetHandleByIndex(self, index: int) -> str:
        return f"handle-{index}"

    def nvmlDeviceGetName(self, handle: str) -> bytes:
        return b"NVIDIA H100 80GB HBM3"  # older pynvml versions return bytes

    def nvmlDeviceGetUUID(self, handle: str) -> str:
        return "GPU-1234"

    def nvmlDeviceGetMemoryInfo(self, handle: str) -> Any:
        return SimpleNamespace(used=30 * 2**30, total=80 * 2**30, free=50 * 2**30)

    def nvmlDeviceGetUtilizationRates(self, handle: str) -> Any:
        if self.utilisation_error:
            raise NVMLError("Not Supported")
        return SimpleNamespace(gpu=87, memory=40)

    def nvmlDeviceGetTemperature(self, handle: str, sensor: int) -> int:
        return 64

    def nvmlSystemGetDriverVersion(self) -> str:
        return "570.86.15"


@pytest.fixture
def use_nvml(monkeypatch) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """Install a fake pynvml (or None: not installed) and make system.py forget its state."""

    def _use(fake: Any) -> Any:
        monkeypatch.setitem(sys.modules, "pynvml", fake)
        system._reset_nvml()
        return fake

    yield _use
    system._reset_nvml()


@pytest.fixture
def staff_api(make_key) -> Any:  # type: ignore[no-untyped-def]
    """An operator: staff see the platform's figures (worker ids, MEDIA_ROOT)."""
    from rest_framework.test import APIClient

    from accounts.models import User

    operator = User.objects.create_user(username="opal", password="operator-pass-123", is_staff=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(operator)}")
    return client


def get_health(client: Any) -> dict[str, Any]:
    response = client.get("/api/v1/health")
    assert response.status_code == 200, response.content
    return response.json()


# ------------------------------------------------------------------ access


def test_it_needs_credentials_when_api_keys_are_required(anon, settings):
    settings.API_KEY_REQUIRED = True
    response = anon.get("/api/v1/health")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_any_valid_key_may_read_it(api_for, owner):
    assert api_for(owner, ["voices:read"]).get("/api/v1/health").status_code == 200


def test_it_is_open_when_api_keys_are_not_required(anon, settings):
    settings.API_KEY_REQUIRED = False
    assert get_health(anon)["status"] in ("ok", "degraded")


# ------------------------------------------------------------------ host and GPU


def test_it_reports_cpu_memory_and_disk(staff_api, settings):
    body = get_health(staff_api)
    assert 0 <= body["system"]["cpu"]["percent"] <= 100 and body["system"]["cpu"]["count"] >= 1
    memory = body["system"]["memory"]
    assert 0 < memory["used_bytes"] < memory["total_bytes"]
    disk = body["system"]["disk"]
    # MEDIA_ROOT does not exist yet in a fresh test folder: its filesystem is measured.
    assert disk["path"] == str(settings.MEDIA_ROOT) and 0 < disk["free_bytes"] <= disk["total_bytes"]


def test_without_a_gpu_driver_the_gpu_is_not_available_and_nothing_fails(owner_api, use_nvml):
    use_nvml(FakeNVML(init_error="NVML Shared Library Not Found"))
    gpu = get_health(owner_api)["gpu"]
    assert gpu == {"status": "not available", "reason": "NVML: NVML Shared Library Not Found", "devices": []}


def test_without_nvidia_ml_py_the_gpu_is_not_available(owner_api, use_nvml):
    use_nvml(None)  # `import pynvml` raises ImportError
    gpu = get_health(owner_api)["gpu"]
    assert gpu["status"] == "not available" and gpu["reason"] == "nvidia-ml-py is not installed"


def test_on_this_host_the_real_nvml_answers_without_an_error(owner_api, use_nvml):
    pytest.importorskip("pynvml")
    system._reset_nvml()
    gpu = get_health(owner_api)["gpu"]
    assert gpu["status"] in ("available", "not available")
    if gpu["status"] == "not available":  # the machines this suite usually runs on
        assert gpu["reason"] and gpu["devices"] == []


def test_a_failed_nvml_start_is_not_retried_on_every_request(owner_api, use_nvml):
    fake = use_nvml(FakeNVML(init_error="Driver Not Loaded"))
    get_health(owner_api)
    get_health(owner_api)
    assert fake.inits == 1


def test_with_a_gpu_it_reports_name_memory_utilisation_and_temperature(owner_api, use_nvml):
    use_nvml(FakeNVML())
    gpu = get_health(owner_api)["gpu"]
    assert gpu == {
        "status": "available",
        "driver_version": "570.86.15",
        "devices": [
            {
                "index": 0,
                "name": "NVIDIA H100 80GB HBM3",
                "uuid": "GPU-1234",
                "memory_used_bytes": 30 * 2**30,
                "memory_total_bytes": 80 * 2**30,
                "utilization_percent": 87,
                "temperature_celsius": 64,
            }
        ],
    }


def test_a_gpu_figure_the_driver_cannot_give_is_null_and_the_rest_still_shows(owner_api, use_nvml):
    use_nvml(FakeNVML(utilisation_error=True))  # e.g. a MIG slice
    [device] = get_health(owner_api)["gpu"]["devices"]
    assert device["utilization_percent"] is None and device["memory_total_bytes"] == 80 * 2**30


# ------------------------------------------------------------------ engines, voices, queue, workers


def test_it_lists_engines_with_what_the_live_workers_loaded_and_how_long_it_took(staff_api):
    heartbeat("gpu-1:100:a", seconds_ago=1)
    heartbeat("gpu-2:200:b", seconds_ago=3600)  # dead: its report no longer counts
    engines = {engine["name"]: engine for engine in get_health(staff_api)["engines"]}
    assert set(engines) == {"piper"}  # TTS_ENGINES=piper
    piper = engines["piper"]
    assert piper["available"] is True and piper["reason"] is None and "en" in piper["languages"]
    assert piper["loaded_in_workers"] == 1
    # A heartbeat that does not say when the model was loaded (an older worker) reads as null.
    assert piper["workers"] == [
        {
            "worker_id": "gpu-1:100:a",
            "available": True,
            "loaded": True,
            "load_seconds": 0.42,
            "loaded_at": None,
            "device": "cpu",
        }
    ]


def test_it_counts_voices(owner_api, owner):
    # The built-in joe is there: synced at start-up (tests/conftest.py does it per test).
    assert list(Voice.objects.filter(is_builtin=True).values_list("builtin_key", "status")) == [("joe", "ready")]
    Voice.objects.create(owner=owner, name="Grandpa", language="en", engine="xtts", status="pending_engine")
    voices = get_health(owner_api)["voices"]
    assert voices["total"] == 2 and voices["builtin"] == 1 and voices["custom"] == 1 and voices["active"] == 1
    assert voices["by_status"] == {"processing": 0, "ready": 1, "pending_engine": 1, "failed": 0}


def test_it_reports_queue_depth_and_the_age_of_the_oldest_queued_job(owner_api, owner):
    def job(status: str, seconds_ago: float) -> None:
        created = SynthesisJob.objects.create(
            owner=owner, voice_name="joe", voice_builtin=True, engine="piper", language="en", text="hi", status=status
        )
        SynthesisJob.objects.filter(pk=created.pk).update(queued_at=timezone.now() - timedelta(seconds=seconds_ago))

    job("queued", 90)
    job("queued", 5)
    job("running", 300)  # running jobs are not waiting
    job("completed", 600)
    queue = get_health(owner_api)["queue"]
    assert queue["depth"] == 2 and queue["running"] == 1
    assert 90 <= queue["oldest_age_seconds"] < 100


def test_an_empty_queue_has_no_oldest_job(owner_api):
    queue = get_health(owner_api)["queue"]
    assert queue == {"depth": 0, "running": 0, "oldest_queued_at": None, "oldest_age_seconds": 0.0}


def test_it_lists_worker_heartbeats_without_naming_other_users_jobs(staff_api, outsider, settings):
    settings.WORKER_HEARTBEAT_MAX_AGE = 30
    theirs = SynthesisJob.objects.create(
        owner=outsider, voice_name="joe", voice_builtin=True, engine="piper", language="en", text="private",
        status="running", lease_owner="gpu-1:100:a", lease_expires_at=timezone.now() + timedelta(seconds=60),
    )  # fmt: skip
    heartbeat("gpu-1:100:a", seconds_ago=2, current_job=theirs.pk)
    heartbeat("gpu-2:200:b", seconds_ago=45)
    body = get_health(staff_api)
    workers = body["workers"]
    assert workers["alive"] == 1 and workers["total"] == 2 and workers["heartbeat_max_age_seconds"] == 30
    fresh, stale = workers["items"]
    assert fresh["worker_id"] == "gpu-1:100:a" and fresh["fresh"] and fresh["alive"] and fresh["busy"]
    age = fresh["age_seconds"]
    assert age >= 1 and age < 10 and fresh["engines"][0]["load_seconds"] == 0.42
    assert stale["worker_id"] == "gpu-2:200:b" and not stale["fresh"] and not stale["alive"]
    assert str(theirs.pk) not in str(body)
    assert body["status"] == "ok"


def test_without_a_live_worker_the_status_is_degraded(owner_api):
    heartbeat(seconds_ago=3600)
    assert get_health(owner_api)["status"] == "degraded"


def test_the_openapi_schema_documents_it(client):
    schema = client.get("/openapi.json").json()
    operation = schema["paths"]["/api/v1/health"]["get"]
    assert "200" in operation["responses"] and "401" in operation["responses"]
