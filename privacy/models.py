"""A person's data export: a zip built in the background by the engine workers' sweep
(privacy.exports), downloadable by its owner until `expires_at`, then deleted."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class DataExport(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"  # waiting for a worker's sweep
        BUILDING = "building"  # a worker is writing the zip
        READY = "ready"  # downloadable until expires_at
        FAILED = "failed"

    ACTIVE = (Status.QUEUED, Status.BUILDING)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    include_audio = models.BooleanField(default=False)
    builder = models.CharField(max_length=128, blank=True)  # the worker building it
    file = models.CharField(max_length=255, blank=True)  # relative to MEDIA_ROOT (core.media.export_relative)
    size_bytes = models.PositiveBigIntegerField(default=0)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"data export {self.id} ({self.status})"
