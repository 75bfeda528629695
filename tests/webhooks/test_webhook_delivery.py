"""Delivering events to a real receiver on 127.0.0.1 that verifies every request with
the `standardwebhooks` library: each subscribed event once per endpoint, the payload of
the websocket event, retries after a 5xx and a hang, 410 and days of failures disabling
the endpoint, a huge answer read only in part, the old secret signing beside a rotated
one, the test event and redelivery, the log's retention."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer

from accounts.models import User
from core.events import send_user_event, user_group
from monitoring.metrics import WEBHOOK_DELIVERIES
from monitoring.models import AuditEvent
from synthesis.job_events import job_event_payload
from synthesis.models import SynthesisJob
from synthesis.services import JobRequest, job_cancel, job_create
from tests.webhooks.conftest import Answer
from webhooks.delivery import RETRY_DELAYS, deliveries_prune, deliveries_run_due
from webhooks.events import WEBHOOK_EVENTS
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import endpoint_rotate_secret, endpoint_update

pytestmark = pytest.mark.django_db
Status = WebhookDelivery.Status


def deliver(clock=None) -> int:  # type: ignore[no-untyped-def]
    return deliveries_run_due(worker_id="test-loop", **({"now": clock.now} if clock else {}))


def counted(outcome: str) -> float:
    return WEBHOOK_DELIVERIES.labels(outcome=outcome)._value.get()


def test_every_event_type_reaches_each_subscribed_endpoint_once_signed(owner, outsider, receiver, subscribe):
    everything = subscribe(owner, list(WEBHOOK_EVENTS), "/all")
    jobs_only = subscribe(owner, ["job.completed", "job.failed"], "/jobs")
    subscribe(outsider, list(WEBHOOK_EVENTS), "/outsider")
    for n, event in enumerate(WEBHOOK_EVENTS):
        send_user_event(user_id=owner.pk, event=event, payload={"n": n, "status": event.split(".")[1]})
    send_user_event(user_id=owner.pk, event="job.progress", payload={"progress": 0.5})  # not a webhook event
    assert deliver() == len(WEBHOOK_EVENTS) + 2
    assert all(r.verified for r in receiver.received)
    sent = WebhookDelivery.objects.filter(status=Status.SUCCEEDED)
    assert sorted(sent.filter(endpoint=everything).values_list("event_type", flat=True)) == sorted(WEBHOOK_EVENTS)
    assert sorted(sent.filter(endpoint=jobs_only).values_list("event_type", flat=True)) == [
        "job.completed",
        "job.failed",
    ]
    assert sorted(receiver.events()) == sorted([*WEBHOOK_EVENTS, "job.completed", "job.failed"])
    completed = [r.json for r in receiver.received if r.json["type"] == "job.completed"]
    assert completed[0]["id"] == completed[1]["id"]  # one event, two endpoints
    assert completed[0]["data"] == {"n": 0, "status": "completed"}
    assert len({r.webhook_id for r in receiver.received}) == len(receiver.received)


def test_a_finished_job_sends_the_websocket_events_payload(owner, receiver, subscribe, run_worker):
    subscribe(owner, ["job.completed", "job.cancelled"])
    done, _ = job_create(user=owner, req=JobRequest(text="Hello there.", voice="joe"))
    run_worker()
    cancelled, _ = job_create(user=owner, req=JobRequest(text="Never mind.", voice="joe"))
    job_cancel(job=cancelled)
    deliver()
    bodies = {r.json["type"]: r.json for r in receiver.received}
    assert set(bodies) == {"job.completed", "job.cancelled"}
    assert bodies["job.completed"]["data"] == job_event_payload(SynthesisJob.objects.get(pk=done.pk))
    assert bodies["job.cancelled"]["data"]["job_id"] == str(cancelled.pk)
    assert all(r.verified for r in receiver.received)


def test_a_receiver_answering_500_gets_the_retry_after_the_backoff(owner, receiver, subscribe, mock_clock):
    subscribe(owner, ["job.completed"])
    receiver.answers = [Answer(status=500, body=b"oops")]
    before = counted("http_error")
    send_user_event(user_id=owner.pk, event="job.completed", payload={"job_id": "j1"})
    WebhookDelivery.objects.update(next_attempt_at=mock_clock.now())
    assert deliver(mock_clock) == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.PENDING and delivery.response_status == 500 and delivery.attempts == 1
    wait = (delivery.next_attempt_at - mock_clock.now()).total_seconds()
    assert RETRY_DELAYS[0] * 0.9 <= wait <= RETRY_DELAYS[0] * 1.1
    assert counted("http_error") == before + 1
    assert deliver(mock_clock) == 0  # not due yet
    mock_clock.advance(seconds=6)
    assert deliver(mock_clock) == 1
    delivery.refresh_from_db()
    assert delivery.status == Status.SUCCEEDED and delivery.attempts == 2 and delivery.response_status == 200
    assert [r.webhook_id for r in receiver.received] == [delivery.webhook_id] * 2
    assert all(r.verified for r in receiver.received)


def test_a_hanging_receiver_is_timed_out_and_retried(owner, receiver, subscribe, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    subscribe(owner, ["job.failed"])
    receiver.answers = [Answer(hang_seconds=2)]
    send_user_event(user_id=owner.pk, event="job.failed", payload={"job_id": "j2"})
    deliver()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.PENDING and delivery.error.startswith("Timed out")
    assert delivery.duration_ms is not None and delivery.duration_ms < 1500
    assert delivery.endpoint.failing_since is not None


def test_a_410_disables_the_endpoint(owner, receiver, subscribe):
    endpoint = subscribe(owner, ["voice.ready"])
    receiver.answers = [Answer(status=410)]
    send_user_event(user_id=owner.pk, event="voice.ready", payload={"voice_id": "v"})
    deliver()
    endpoint.refresh_from_db()
    assert not endpoint.enabled and "410" in endpoint.disabled_reason
    assert WebhookDelivery.objects.get().status == Status.FAILED
    assert AuditEvent.objects.filter(action="webhook.disabled", target_id=str(endpoint.pk)).exists()
    send_user_event(user_id=owner.pk, event="voice.ready", payload={"voice_id": "v"})
    assert WebhookDelivery.objects.count() == 1  # a disabled endpoint gets nothing new


def test_an_endpoint_failing_for_three_days_is_disabled_and_its_owner_told(owner, receiver, subscribe, mock_clock):
    endpoint = subscribe(owner, ["job.completed"])
    receiver.answers = [Answer(status=503)] * 100
    for _ in range(4):
        send_user_event(user_id=owner.pk, event="job.completed", payload={})
        WebhookDelivery.objects.filter(status=Status.PENDING).update(next_attempt_at=mock_clock.now())
        deliver(mock_clock)
        mock_clock.advance(days=1, seconds=1)
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert "failed since" in endpoint.disabled_reason
    # Re-enabled by its owner once the receiver is fixed: a fresh start.
    endpoint_update(endpoint=endpoint, enabled=True)
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.disabled_reason == "" and endpoint.failing_since is None


def test_a_delivery_runs_out_of_attempts_after_about_a_day(owner, receiver, subscribe, mock_clock):
    subscribe(owner, ["job.completed"])
    receiver.answers = [Answer(status=500)] * 10
    send_user_event(user_id=owner.pk, event="job.completed", payload={})
    WebhookDelivery.objects.update(next_attempt_at=mock_clock.now())
    for _ in range(len(RETRY_DELAYS) + 1):
        assert deliver(mock_clock) == 1
        mock_clock.advance(hours=12)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.FAILED and delivery.attempts == len(RETRY_DELAYS) + 1
    assert len(receiver.received) == len(RETRY_DELAYS) + 1


def test_a_ten_megabyte_answer_is_read_only_in_part_and_the_delivery_recorded(owner, receiver, subscribe):
    subscribe(owner, ["job.completed"])
    receiver.answers = [Answer(status=200, body=b"x" * (10 * 1024 * 1024))]
    send_user_event(user_id=owner.pk, event="job.completed", payload={})
    deliver()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == Status.SUCCEEDED and delivery.response_status == 200
    assert "longer than 65536 bytes" in delivery.error
    assert len(delivery.response_body) <= 1025


def test_after_a_rotation_both_secrets_sign_for_a_day(owner, receiver, subscribe, mock_clock):
    endpoint = subscribe(owner, ["job.completed"])
    old_secret = receiver.secrets.pop()
    new_secret = endpoint_rotate_secret(endpoint=endpoint).secret
    for secrets in ([old_secret], [new_secret]):
        receiver.secrets = secrets
        send_user_event(user_id=owner.pk, event="job.completed", payload={})
        deliver()
        assert receiver.received[-1].verified
    assert len(receiver.received[-1].headers["webhook-signature"].split(" ")) == 2
    receiver.secrets = [old_secret]
    mock_clock.advance(hours=25)
    send_user_event(user_id=owner.pk, event="job.completed", payload={})
    WebhookDelivery.objects.filter(status=Status.PENDING).update(next_attempt_at=mock_clock.now())
    deliveries_run_due(worker_id="test-loop", now=mock_clock.now)
    assert len(receiver.received[-1].headers["webhook-signature"].split(" ")) == 1


def test_the_test_event_and_redeliver_buttons(owner, owner_api, receiver, subscribe):
    endpoint = subscribe(owner, ["job.completed"])
    sent = owner_api.post(f"/api/v1/webhooks/{endpoint.pk}/test")
    assert sent.status_code == 202 and sent.json()["event_type"] == "webhook.test"
    deliver()
    assert receiver.events() == ["webhook.test"] and receiver.received[0].verified
    log = owner_api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries").json()["results"]
    assert log[0]["status"] == "succeeded" and log[0]["response_status"] == 200 and log[0]["attempts"] == 1
    again = owner_api.post(f"/api/v1/webhooks/{endpoint.pk}/deliveries/{log[0]['id']}/redeliver")
    assert again.status_code == 202 and again.json()["status"] == "pending"
    deliver()
    assert [r.webhook_id for r in receiver.received] == [log[0]["webhook_id"]] * 2


def test_finished_deliveries_leave_the_log_after_thirty_days(owner, receiver, subscribe, mock_clock):
    subscribe(owner, ["job.completed"])
    send_user_event(user_id=owner.pk, event="job.completed", payload={})
    deliver()
    mock_clock.advance(days=29)
    assert deliveries_prune(now=mock_clock.now) == 0
    mock_clock.advance(days=2)
    assert deliveries_prune(now=mock_clock.now) == 1
    assert WebhookEndpoint.objects.count() == 1


def test_an_unsubscribed_user_gets_no_delivery_rows(owner: User, outsider: User, receiver, subscribe):
    subscribe(owner, ["voice.failed"])
    send_user_event(user_id=outsider.pk, event="voice.failed", payload={})
    send_user_event(user_id=owner.pk, event="voice.ready", payload={})
    assert WebhookDelivery.objects.count() == 0


def test_the_websocket_and_the_webhook_carry_the_same_payload_for_every_event(owner, receiver, subscribe):
    """One announcing point: whatever a service announces reaches the owner's sockets and
    the webhook alike (the voice's and the production's payloads as their services build them)."""
    subscribe(owner, list(WEBHOOK_EVENTS))
    layer = get_channel_layer()

    async def listen_while_announcing() -> list[dict]:
        # One event loop for the whole conversation, as a consumer has.
        channel = await layer.new_channel()
        await layer.group_add(user_group(owner.pk), channel)
        heard = []
        for event in WEBHOOK_EVENTS:
            payload = {"id": event, "status": "x", "progress": 0.5}
            await sync_to_async(send_user_event)(user_id=owner.pk, event=event, payload=payload)
            heard.append(await layer.receive(channel))
        await layer.group_discard(user_group(owner.pk), channel)
        return heard

    heard = async_to_sync(listen_while_announcing)()
    deliver()
    delivered = {r.json["type"]: r.json["data"] for r in receiver.received}
    assert {m["event"]: m["payload"] for m in heard} == delivered
