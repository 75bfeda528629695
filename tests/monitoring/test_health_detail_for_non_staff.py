"""GET /api/v1/health for a caller who is not staff: no global figures. Voices and the
queue count only the caller's own (and the built-in voices); worker ids, host names,
PIDs and MEDIA_ROOT are left out. Staff still see everything."""

from __future__ import annotations

import pytest

from synthesis.models import SynthesisJob
from tests.monitoring.test_health_ready_endpoint import heartbeat
from voices.models import Voice

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("piper_only")]


@pytest.fixture
def platform(owner, outsider):  # type: ignore[no-untyped-def]
    """Two users' voices and jobs, and a live worker on host gpu-7 with PID 4242."""
    # The built-in joe is there: synced at start-up (tests/conftest.py does it per test).
    assert list(Voice.objects.filter(is_builtin=True).values_list("builtin_key", "status")) == [("joe", "ready")]
    Voice.objects.create(owner=owner, name="Mine", language="en", engine="xtts", status="ready")
    for n in range(3):
        Voice.objects.create(owner=outsider, name=f"Theirs {n}", language="en", engine="xtts", status="pending_engine")
    for who in (owner, outsider, outsider):
        SynthesisJob.objects.create(
            owner=who, voice_name="joe", voice_builtin=True, engine="piper", language="en", text="hi", status="queued"
        )
    heartbeat("gpu-7:4242:abc", seconds_ago=1)


def test_a_user_sees_only_their_own_and_the_builtin_voices(owner_api, platform):
    voices = owner_api.get("/api/v1/health").json()["voices"]
    assert (voices["total"], voices["builtin"], voices["custom"]) == (2, 1, 1)
    assert voices["by_status"]["pending_engine"] == 0


def test_a_user_sees_only_their_own_queued_jobs(owner_api, platform):
    assert owner_api.get("/api/v1/health").json()["queue"]["depth"] == 1


def test_a_user_sees_no_worker_ids_host_names_pids_or_media_root(owner_api, platform, settings):
    response = owner_api.get("/api/v1/health")
    assert response.status_code == 200
    body = response.json()
    text = response.content.decode()
    assert "gpu-7" not in text and "4242" not in text and str(settings.MEDIA_ROOT) not in text
    assert "path" not in body["system"]["disk"] and body["system"]["disk"]["total_bytes"] > 0
    [worker] = body["workers"]["items"]
    assert worker["alive"] and not {"worker_id", "hostname", "pid"} & set(worker)
    assert body["workers"]["alive"] == 1 and body["status"] == "ok"


def test_an_anonymous_caller_sees_only_the_builtin_voices_and_no_jobs(anon, platform, settings):
    settings.API_KEY_REQUIRED = False
    body = anon.get("/api/v1/health").json()
    assert body["voices"]["total"] == 1 and body["queue"]["depth"] == 0
    assert "gpu-7" not in str(body)


def test_staff_see_the_whole_platform(api_for, platform, settings):
    from accounts.models import User

    operator = User.objects.create_user(username="opal", password="operator-pass-123", is_staff=True)
    body = api_for(operator).get("/api/v1/health").json()
    assert body["voices"]["total"] == 5 and body["queue"]["depth"] == 3
    assert body["workers"]["items"][0]["worker_id"] == "gpu-7:4242:abc"
    assert body["system"]["disk"]["path"] == str(settings.MEDIA_ROOT)
