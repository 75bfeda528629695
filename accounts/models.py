"""Users and their API keys."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone

SCOPES: tuple[str, ...] = ("voices:read", "voices:write", "synthesis:write", "keys:manage", "webhooks:manage")


class User(AbstractUser):
    # Per-user overrides of the quota settings (blank: use the settings default); edited
    # by operators in the admin.
    monthly_character_quota = models.PositiveIntegerField(null=True, blank=True)
    max_active_jobs = models.PositiveIntegerField(null=True, blank=True)

    def character_quota(self) -> int:
        if self.monthly_character_quota is not None:
            return self.monthly_character_quota
        return settings.QUOTA_MONTHLY_CHARACTERS

    def active_jobs_limit(self) -> int:
        if self.max_active_jobs is not None:
            return self.max_active_jobs
        return settings.QUOTA_MAX_ACTIVE_JOBS


class APIKey(models.Model):
    """A per-user API key `spk_<prefix>_<secret>`: the prefix is public and indexed, only a
    SHA-256 of the secret is stored (secrets are 256-bit random, so a slow hash adds
    nothing), compared in constant time."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # A revoked key its owner took off the list: kept (usage and the audit log name its
    # prefix), never shown in the lists again.
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} (spk_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()

    def has_scopes(self, required: set[str] | frozenset[str]) -> bool:
        return required.issubset(self.scopes)


class Invitation(models.Model):
    """A staff member's invitation to create one account (SIGNUP_MODE=invite). The link
    carries a random token of which only a SHA-256 is stored; it works once, before
    `expires_at`. Accepting it creates the account with `email` already verified and the
    quota given here (blank: the settings default)."""

    email = models.EmailField()
    token_hash = models.CharField(max_length=64, unique=True)
    monthly_character_quota = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()
