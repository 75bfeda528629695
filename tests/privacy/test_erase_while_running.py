"""An account erased while a worker is speaking one of its jobs and its production is
queued: the job is cancelled in the middle of its generation (the erasure runs between
two chunks of it), the worker stops, and nothing of the account is left on disk."""

from __future__ import annotations

from typing import Any

import numpy as np
from django.conf import settings

from engine_host.relays import StreamRelay
from engine_host.worker import EngineWorker
from monitoring.models import AuditEvent
from productions.models import Production
from synthesis.models import SynthesisJob
from synthesis.queue import job_claim_next
from tests.privacy.conftest import OWNER_PASSWORD, database_traces, media_files, media_folders

LONG_TEXT = "The first sentence is spoken now. The second one follows it. A third one ends the job."


class EraseOnFirstChunk(StreamRelay):
    """The worker's relay for the job, which erases the account when the first audio
    arrives: a deterministic point inside the generation."""

    def __init__(self, job: SynthesisJob, erase: Any) -> None:
        super().__init__(job)
        self.erase = erase
        self.responses: list[Any] = []
        self.finished_with: str | None = None

    def send_chunk(self, chunk: np.ndarray, sample_rate: int) -> None:
        if not self.responses:
            self.responses.append(self.erase())

    def finish(self, error: str | None = None) -> None:
        self.finished_with = error


def test_an_erase_during_a_generation_cancels_it_and_leaves_nothing(owner, api_for, piper_only, transactional_db):
    client = api_for(owner)
    job_id = client.post("/api/v1/synthesis", {"text": LONG_TEXT, "voice": "joe"}, format="json").json()["id"]
    production_id = client.post(
        "/api/v1/productions",
        {"text": "# One\nA chapter of two sentences. Here is the second.", "voice": "joe"},
        format="json",
    ).json()["id"]
    worker = EngineWorker(worker_id="test-worker")
    claimed = job_claim_next(worker_id=worker.worker_id)
    assert str(claimed.pk) == job_id and claimed.status == "running"
    relay = EraseOnFirstChunk(
        claimed,
        lambda: client.post(
            "/api/v1/account/erase", {"password": OWNER_PASSWORD, "confirm_username": "olivia"}, format="json"
        ),
    )

    worker.run_job(claimed, relay)

    assert relay.responses[0].status_code == 204
    assert relay.finished_with == "cancelled"  # the worker saw its lease gone and stopped
    assert not SynthesisJob.objects.exists() and not Production.objects.exists()
    cancelled = AuditEvent.objects.filter(action="job.cancelled")
    assert cancelled.count() >= 2 and set(cancelled.values_list("target_id", flat=True)) == {""}
    assert media_files(settings.MEDIA_ROOT) == set()
    assert [folder for folder in media_folders(settings.MEDIA_ROOT) if str(owner.pk) in folder.split("/")] == []
    assert database_traces(user_id=owner.pk, markers=["olivia", job_id, production_id, LONG_TEXT]) == []
