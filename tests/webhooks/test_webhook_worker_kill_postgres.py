"""A delivery loop killed (SIGKILL) in the middle of a request loses nothing: the
delivery's lease runs out and another loop sends it again, with the same `webhook-id`
(at least once; receivers deduplicate on the id)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from core.events import send_user_event
from tests.webhooks.conftest import Answer
from webhooks.delivery import deliveries_run_due
from webhooks.models import WebhookDelivery

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_a_delivery_survives_its_loop_being_killed_mid_request(owner, receiver, subscribe, mock_clock, tmp_path):
    subscribe(owner, ["job.completed"])
    receiver.answers = [Answer(hang_seconds=30)]  # the first request never gets its answer
    send_user_event(user_id=owner.pk, event="job.completed", payload={"job_id": "j"})
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "WEBHOOK_LEASE_SECONDS": "2",
        "WEBHOOK_TIMEOUT_SECONDS": "60",
        "WEBHOOK_POLL_SECONDS": "0.2",
        "AUDIT_LOG_FILE": str(tmp_path / "audit.log"),
        "EMBEDDED_WORKER": "false",
    }
    log = open(tmp_path / "loop.log", "ab")
    doomed = subprocess.Popen(
        [sys.executable, "manage.py", "runwebhooks", "--worker-id", "doomed"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    try:
        assert receiver.arrived.wait(60), (tmp_path / "loop.log").read_text()
        doomed.kill()  # SIGKILL: no chance to record anything
        doomed.wait(timeout=10)
    finally:
        if doomed.poll() is None:
            doomed.kill()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivering" and delivery.lease_owner.startswith("doomed")
    assert deliveries_run_due(worker_id="rescuer") == 0  # its lease still runs
    mock_clock.moment = delivery.lease_expires_at
    mock_clock.advance(seconds=0.1)  # the lease has run out
    assert deliveries_run_due(worker_id="rescuer", now=mock_clock.now) == 1
    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempts == 2
    assert [r.webhook_id for r in receiver.received] == [delivery.webhook_id] * 2
    assert all(r.verified for r in receiver.received)
