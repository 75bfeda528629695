from __future__ import annotations

import pytest

from engine_host.worker import EngineWorker
from synthesis.models import SynthesisJob


@pytest.fixture
def post_job(owner_api):  # type: ignore[no-untyped-def]
    def _post(text: str = "Hello from Speaker. This is a test.", **body):  # type: ignore[no-untyped-def]
        headers = {k: body.pop(k) for k in list(body) if k.startswith("HTTP_")}
        payload = {"text": text, "voice": "joe", "language": "en", **body}
        return owner_api.post("/api/v1/synthesis", payload, format="json", **headers)

    return _post


def job(job_id: str) -> SynthesisJob:
    return SynthesisJob.objects.get(pk=job_id)


def run_once_in_thread(worker: EngineWorker) -> bool:
    """For `asyncio.to_thread`: one worker round, then close this thread's database
    connections (a worker thread's connection would otherwise outlive the test)."""
    from django.db import connections

    try:
        return worker.run_once()
    finally:
        connections.close_all()
