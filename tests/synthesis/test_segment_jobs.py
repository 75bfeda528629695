"""synthesis.segment_jobs: a production's jobs go through synthesis, so cancelling a
production sends, for each of its jobs, exactly what cancelling one job sends: the
`job.cancelled` event, the tts_requests_total increment, the `job.cancelled` audit entry
(and each was recorded when queued as a single job is: `job.created`)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers, get_channel_layer
from prometheus_client import REGISTRY

from core.events import user_group
from monitoring.models import AuditEvent
from productions.models import ProductionSegment
from synthesis.models import SynthesisJob

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("piper_only")]


@pytest.fixture
def events(owner, settings):  # type: ignore[no-untyped-def]
    """The owner's websocket group, heard from here: drain() returns what was sent. The
    in-process layer on every configuration (what is sent is the same on Redis; a
    Redis layer's queues belong to the event loop that first used them)."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(owner.pk), channel)

    async def _drain() -> list[dict[str, Any]]:
        got = []
        while True:
            try:
                got.append(await asyncio.wait_for(layer.receive(channel), timeout=0.3))
            except TimeoutError:
                return got

    yield async_to_sync(_drain)
    async_to_sync(layer.group_discard)(user_group(owner.pk), channel)
    channel_layers.backends.clear()


def _job_events(messages: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (m["event"], m["payload"])
        for m in messages
        if m.get("type") == "speaker.event" and m["event"].startswith("job.")
    ]


def _cancelled_count(endpoint: str) -> float:
    labels = {"endpoint": endpoint, "engine": "piper", "voice": "joe", "language": "en", "status": "cancelled"}
    return REGISTRY.get_sample_value("tts_requests_total", labels) or 0.0


def _what_cancelling_sent(job_ids: list[str], messages: list[dict[str, Any]]) -> dict[str, Any]:
    events = [(name, payload) for name, payload in _job_events(messages) if payload.get("job_id") in job_ids]
    audits = AuditEvent.objects.filter(target_type="synthesis_job", target_id__in=job_ids)
    return {
        "events": sorted((name, tuple(sorted(payload)), payload["status"]) for name, payload in events),
        "audit": sorted(audits.values_list("action", "outcome")),
        "per_job": {job_id: sum(1 for _, p in events if p["job_id"] == job_id) for job_id in job_ids},
    }


def test_a_production_cancel_sends_for_its_job_what_a_single_job_cancel_sends(owner_api, events):
    job_id = owner_api.post(
        "/api/v1/synthesis", {"text": "One sentence to cancel.", "voice": "joe"}, format="json"
    ).json()["id"]
    events()  # job.queued and friends: not what is compared
    before_job = _cancelled_count("job")
    assert owner_api.post(f"/api/v1/synthesis/{job_id}/cancel").status_code == 200
    single = _what_cancelling_sent([job_id], events())
    assert _cancelled_count("job") - before_job == 1

    body = owner_api.post(
        "/api/v1/productions", {"text": "One sentence to cancel.", "voice": "joe"}, format="json"
    ).json()
    segment_jobs = [
        str(j) for j in ProductionSegment.objects.filter(production_id=body["id"]).values_list("job_id", flat=True)
    ]
    assert len(segment_jobs) == 1
    events()
    before_segment = _cancelled_count("segment")
    assert owner_api.post(f"/api/v1/productions/{body['id']}/cancel").status_code == 200
    produced = _what_cancelling_sent(segment_jobs, events())
    assert _cancelled_count("segment") - before_segment == 1

    assert single["events"] == produced["events"] == [("job.cancelled", single["events"][0][1], "cancelled")]
    assert single["audit"] == produced["audit"] == [("job.cancelled", "success"), ("job.created", "success")]
    assert list(single["per_job"].values()) == list(produced["per_job"].values()) == [1]
    assert SynthesisJob.objects.get(pk=segment_jobs[0]).status == "cancelled"


def test_pausing_withdraws_each_queued_segment_job_as_a_cancellation(owner_api, events):
    text = "# One\nFirst part here.\n# Two\nSecond part here."
    body = owner_api.post("/api/v1/productions", {"text": text, "voice": "joe"}, format="json").json()
    job_ids = [
        str(j) for j in ProductionSegment.objects.filter(production_id=body["id"]).values_list("job_id", flat=True)
    ]
    events()
    before = _cancelled_count("segment")
    assert owner_api.post(f"/api/v1/productions/{body['id']}/pause").status_code == 200
    sent = _what_cancelling_sent(job_ids, events())
    assert _cancelled_count("segment") - before == len(job_ids) == 2
    assert sent["per_job"] == dict.fromkeys(job_ids, 1)
    assert sent["audit"] == [("job.cancelled", "success")] * 2 + [("job.created", "success")] * 2
