"""Synthesis jobs (the queue lives in the database) and engine-worker heartbeats."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models


class SynthesisJobQuerySet(models.QuerySet):
    """The queue's states as querysets (docs/ARCHITECTURE.md, "The queue"); the
    transitions between them live in synthesis.queue."""

    def queued(self) -> SynthesisJobQuerySet:
        return self.filter(status=SynthesisJob.Status.QUEUED)

    def running(self) -> SynthesisJobQuerySet:
        return self.filter(status=SynthesisJob.Status.RUNNING)

    def active(self) -> SynthesisJobQuerySet:
        """Queued or running: not finished yet."""
        return self.filter(status__in=SynthesisJob.ACTIVE)

    def claimable(self) -> SynthesisJobQuerySet:
        """Queued jobs a worker's claim loop may take: every one but in-process streams
        and previews (no channel), which the web process that serves them claims."""
        return self.queued().exclude(mode__in=(SynthesisJob.Mode.STREAM, SynthesisJob.Mode.PREVIEW), stream_channel="")

    def leased_by(self, worker_id: str) -> SynthesisJobQuerySet:
        """Running under `worker_id`'s lease: what only that worker may change."""
        return self.running().filter(lease_owner=worker_id)

    def expired(self, now: datetime) -> SynthesisJobQuerySet:
        """Running, but the lease ran out before `now`: its worker stopped renewing."""
        return self.running().filter(lease_expires_at__lt=now)

    def live_leases(self, now: datetime) -> SynthesisJobQuerySet:
        """Running under a lease that still holds at `now`."""
        return self.running().filter(lease_expires_at__gt=now)


class SynthesisJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELLED = "cancelled"

    class Mode(models.TextChoices):
        JOB = "job"  # queued, audio fetched later
        STREAM = "stream"  # audio relayed to a waiting HTTP response as it is made
        PREVIEW = "preview"  # a voice preview: like a stream, but not billed nor in history
        # One part of a long-form production: billed with its production when the
        # production is accepted, not on its own, and not in the job history.
        SEGMENT = "segment"

    class Priority(models.IntegerChoices):
        """Scheduling class (docs/ARCHITECTURE.md, "Fair scheduling"): the queue claims
        lower values first, and a loaded model gives their segments turns first."""

        INTERACTIVE = 0  # someone is listening: streams, synchronous requests, previews
        JOB = 1  # queued jobs, fetched later
        BULK = 2  # long-form work: never ahead of the two above

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    FINISHED = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="synthesis_jobs")
    api_key = models.ForeignKey("accounts.APIKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    voice = models.ForeignKey("voices.Voice", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    voice_name = models.CharField(max_length=200)  # kept when the voice is deleted
    voice_builtin = models.BooleanField(default=False)
    engine = models.CharField(max_length=32)
    language = models.CharField(max_length=16)
    text = models.TextField()
    # How `text` is read: "text" (plain, inline tags allowed) or "ssml" (a whole document),
    # and the pronunciation rules it is spoken with, as resolved when it was queued (only
    # those whose grapheme occurs in the text): speech.markup, speech.pronunciation.
    text_format = models.CharField(max_length=8, default="text")
    lexicon = models.JSONField(default=list, blank=True)
    params = models.JSONField(default=dict, blank=True)
    # What a client asked for that Speaker has no parameter for (OpenAI's `instructions`),
    # kept as sent; the part it could map is in `params` (docs/compatibility.md).
    instructions = models.TextField(blank=True)
    output_format = models.CharField(max_length=8, default="wav")
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.JOB)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.JOB)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.FloatField(default=0.0)
    attempts = models.PositiveIntegerField(default=0)
    lease_owner = models.CharField(max_length=128, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.CharField(max_length=128, blank=True)  # the worker that finished it
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    # What the job waited for beyond its turn, for its owner (a model loading again after
    # idle unloading, docs/operations.md "Idle unloading"); written by the worker.
    # What the owner should know about how the job was spoken: a wait for its model to load
    # (docs/operations.md "Idle unloading"), a capped break, markup read as text, a phoneme
    # rule this engine could not apply (docs/pronunciation.md).
    status_note = models.TextField(blank=True)
    audio_file = models.CharField(max_length=255, blank=True)  # relative to MEDIA_ROOT
    # Its audio was deleted by the retention sweep (AUDIO_RETENTION_DAYS, synthesis.retention):
    # the row stays in history, its download answers 410.
    audio_expired = models.BooleanField(default=False)
    audio_duration = models.FloatField(null=True, blank=True)
    sample_rate = models.PositiveIntegerField(null=True, blank=True)
    word_count = models.PositiveIntegerField(default=0)
    character_count = models.PositiveIntegerField(default=0)
    queued_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    time_to_first_audio = models.FloatField(null=True, blank=True)
    synthesis_seconds = models.FloatField(null=True, blank=True)
    # Word timings of the stored audio (speech.timings): {"method": ..., "words": [...]}.
    timings = models.JSONField(null=True, blank=True)
    # Stream jobs run by a separate worker send their chunks to this channel-layer channel
    # (the waiting web process reads it); empty for queued jobs and in-process streams.
    stream_channel = models.CharField(max_length=200, blank=True)
    # NULL, not "": the unique (owner, idempotency_key) constraint must ignore keyless jobs.
    idempotency_key = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    request_hash = models.CharField(max_length=64, blank=True)

    objects = SynthesisJobQuerySet.as_manager()

    class Meta:
        ordering = ["-queued_at"]
        indexes = [
            models.Index(fields=["status", "queued_at"]),
            models.Index(fields=["status", "priority", "queued_at"], name="synthesis_claim_order"),
            models.Index(fields=["owner", "-queued_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="unique_idempotency_key_per_owner",
            )
        ]

    def __str__(self) -> str:
        return f"job {self.id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def resumable(self) -> bool:
        """Can another attempt start it over from the top (nobody is listening to a
        partial result)? Queued jobs and long-form segments can; streams and previews
        cannot: their listener went with the worker."""
        return self.mode in (SynthesisJob.Mode.JOB, SynthesisJob.Mode.SEGMENT)

    @property
    def realtime_factor(self) -> float | None:
        if self.synthesis_seconds and self.audio_duration:
            return self.synthesis_seconds / self.audio_duration
        return None


class WorkerHeartbeat(models.Model):
    """One row per engine worker process, refreshed while it lives."""

    worker_id = models.CharField(max_length=128, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)
    engines = models.JSONField(default=list, blank=True)
    current_job = models.UUIDField(null=True, blank=True)
    jobs_done = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return self.worker_id


class UsageRecord(models.Model):
    """What one finished generation cost. One row per job (unique), written when the job
    ends, so a retried job is billed once; it outlives the job's deletion so that
    deleting history does not refill the quota."""

    job_id = models.UUIDField(unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="usage_records")
    api_key = models.ForeignKey("accounts.APIKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    api_key_prefix = models.CharField(max_length=16, blank=True)
    voice_name = models.CharField(max_length=200)
    engine = models.CharField(max_length=32)
    language = models.CharField(max_length=16)
    succeeded = models.BooleanField(default=True)
    characters = models.PositiveIntegerField(default=0)
    words = models.PositiveIntegerField(default=0)
    audio_seconds = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return f"{self.characters} characters for job {self.job_id}"
