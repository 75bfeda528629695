"""SynthesisJob.objects names the queue's states (synthesis.models.SynthesisJobQuerySet);
the queue's transitions (synthesis.queue) are written with them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from synthesis.models import SynthesisJob

pytestmark = pytest.mark.django_db


def _job(owner, **fields) -> SynthesisJob:  # type: ignore[no-untyped-def]
    return SynthesisJob.objects.create(
        owner=owner, voice_name="joe", engine="piper", language="en", text="Hi.", **fields
    )


def _ids(queryset) -> set:  # type: ignore[no-untyped-def]
    return set(queryset.values_list("pk", flat=True))


def test_queued_running_and_active_are_the_unfinished_states(owner):
    queued = _job(owner)
    running = _job(owner, status="running", lease_owner="w1")
    _job(owner, status="completed")
    _job(owner, status="failed")
    _job(owner, status="cancelled")
    assert _ids(SynthesisJob.objects.queued()) == {queued.pk}
    assert _ids(SynthesisJob.objects.running()) == {running.pk}
    assert _ids(SynthesisJob.objects.active()) == {queued.pk, running.pk}


def test_leased_by_is_only_what_that_worker_is_running(owner):
    mine = _job(owner, status="running", lease_owner="w1")
    _job(owner, status="running", lease_owner="w2")
    _job(owner, status="completed", lease_owner="w1")  # finished: no longer anyone's to change
    assert _ids(SynthesisJob.objects.leased_by("w1")) == {mine.pk}


def test_expired_and_live_leases_split_running_jobs_at_now(owner):
    now = timezone.now()
    expired = _job(owner, status="running", lease_owner="gone", lease_expires_at=now - timedelta(seconds=1))
    live = _job(owner, status="running", lease_owner="busy", lease_expires_at=now + timedelta(seconds=30))
    _job(owner, status="failed", lease_expires_at=now - timedelta(seconds=1))  # not running: neither
    assert _ids(SynthesisJob.objects.expired(now)) == {expired.pk}
    assert _ids(SynthesisJob.objects.live_leases(now)) == {live.pk}


def test_claimable_leaves_in_process_streams_and_previews_to_the_web_process_serving_them(owner):
    queued_job = _job(owner)
    relayed_stream = _job(owner, mode="stream", stream_channel="stream.abc")
    _job(owner, mode="stream")  # in-process: its web process claims it (synthesis.queue.job_claim)
    _job(owner, mode="preview")
    _job(owner, status="running", lease_owner="w1")
    assert _ids(SynthesisJob.objects.claimable()) == {queued_job.pk, relayed_stream.pk}
