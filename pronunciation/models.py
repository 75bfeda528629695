"""Pronunciation dictionaries: per account, versioned (docs/pronunciation.md). Every
change is a new version, so a request that names a version hears the same rules later."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class PronunciationDictionary(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pronunciation_dictionaries"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    # The account's default: applied to every request that names no dictionary.
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    latest_version = models.ForeignKey(
        "PronunciationDictionaryVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner"], condition=models.Q(is_default=True), name="one_default_dictionary_per_owner"
            )
        ]

    def __str__(self) -> str:
        return self.name


class PronunciationDictionaryVersion(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dictionary = models.ForeignKey(PronunciationDictionary, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    # speech.pronunciation.Rule.to_dict() each, in order of precedence.
    rules = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dictionary", "number"]
        constraints = [models.UniqueConstraint(fields=["dictionary", "number"], name="unique_dictionary_version")]

    def __str__(self) -> str:
        return f"{self.dictionary_id} v{self.number}"
