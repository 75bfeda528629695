"""Long-form productions (docs/ARCHITECTURE.md, "Long-form productions"): a text of up to
LONGFORM_MAX_CHARACTERS split into chapters and segments. Each segment is spoken by one
`SynthesisJob` (mode `segment`, priority `bulk`), so the queue's leases, claims,
attempts and requeues are the production's too; regenerating a segment is a new job for
it. There is no second queue."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Production(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"  # segments queued or being spoken
        PAUSED = "paused"  # queued segments withdrawn; resume queues them again
        ASSEMBLING = "assembling"  # every segment spoken; the files are being put together
        COMPLETED = "completed"  # assembled: downloads ready
        FAILED = "failed"  # a segment failed for good; resume or regenerate retries it
        CANCELLED = "cancelled"

    ACTIVE = (Status.RUNNING, Status.ASSEMBLING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="productions")
    api_key = models.ForeignKey("accounts.APIKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    title = models.CharField(max_length=200)
    voice_name = models.CharField(max_length=200)  # the default voice, as resolved
    language = models.CharField(max_length=16, blank=True)  # empty: each voice's own
    params = models.JSONField(default=dict, blank=True)
    # The pronunciation rules of the dictionaries it named (or the account's default),
    # resolved once when accepted, for all its segments and their regenerations.
    lexicon = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING, db_index=True)
    character_count = models.PositiveIntegerField(default=0)  # billed once, when accepted
    word_count = models.PositiveIntegerField(default=0)
    segments_total = models.PositiveIntegerField(default=0)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The assembled whole: master WAV relative to MEDIA_ROOT, and what assembly measured
    # (chapters' and segments' offsets, loudness): productions.assembly.Assembly.to_dict.
    audio_file = models.CharField(max_length=255, blank=True)
    audio_duration = models.FloatField(null=True, blank=True)
    assembly = models.JSONField(null=True, blank=True)
    assembled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"production {self.id} ({self.status})"


class Chapter(models.Model):
    production = models.ForeignKey(Production, on_delete=models.CASCADE, related_name="chapters")
    index = models.PositiveIntegerField()  # 1-based, in reading order
    title = models.CharField(max_length=300)

    class Meta:
        ordering = ["production", "index"]
        constraints = [models.UniqueConstraint(fields=["production", "index"], name="unique_chapter_index")]

    def __str__(self) -> str:
        return f"{self.index}. {self.title}"


class ProductionSegment(models.Model):
    production = models.ForeignKey(Production, on_delete=models.CASCADE, related_name="segments")
    chapter = models.ForeignKey(Chapter, on_delete=models.CASCADE, related_name="segments")
    index = models.PositiveIntegerField()  # 1-based over the whole production
    text = models.TextField()  # what is spoken, emotion tags included
    voice = models.ForeignKey("voices.Voice", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    voice_name = models.CharField(max_length=200)
    character_count = models.PositiveIntegerField(default=0)
    revision = models.PositiveIntegerField(default=1)  # +1 per regeneration
    seed = models.BigIntegerField(null=True, blank=True)
    # The job speaking the current revision; older jobs of this segment are history.
    job = models.ForeignKey(
        "synthesis.SynthesisJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["production", "index"]
        constraints = [models.UniqueConstraint(fields=["production", "index"], name="unique_segment_index")]

    def __str__(self) -> str:
        return f"segment {self.index} (revision {self.revision})"
