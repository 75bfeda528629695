"""Operators review voices, samples and consent records; consent is evidence, so it is
read-only here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from voices.models import CloningAttestation, ConsentRecord, Voice, VoiceConsent, VoiceSample


class VoiceSampleInline(admin.TabularInline):
    model = VoiceSample
    extra = 0
    can_delete = False
    fields = (
        "id",
        "emotion",
        "duration_seconds",
        "speech_seconds",
        "sample_rate",
        "original_format",
        "sha256",
        "consent",
        "created_at",
    )
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # samples come in through the validating upload endpoints only


@admin.register(Voice)
class VoiceAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "engine", "language", "is_builtin", "status", "samples_version", "updated_at")
    list_filter = ("is_builtin", "status", "engine", "language")
    search_fields = ("name", "builtin_key", "owner__username", "id")
    readonly_fields = (
        "id", "owner", "engine", "is_builtin", "builtin_key", "status", "status_message", "conditioning_engine",
        "conditioned_at", "samples_version", "created_at", "updated_at",
    )  # fmt: skip
    exclude = ("conditioning",)
    inlines = [VoiceSampleInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # voices are created through the API (consent, validation)


@admin.register(VoiceSample)
class VoiceSampleAdmin(admin.ModelAdmin):
    list_display = ("id", "voice", "emotion", "duration_seconds", "original_format", "created_at")
    list_filter = ("emotion", "original_format")
    search_fields = ("id", "sha256", "voice__name")
    readonly_fields = [f.name for f in VoiceSample._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class _EvidenceAdmin(admin.ModelAdmin):
    """Evidence (consent records, cloning attestations): read-only, never added or
    deleted here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CloningAttestation)
class CloningAttestationAdmin(_EvidenceAdmin):
    list_display = ("accepted_at", "username", "via", "revoked_at", "ip", "api_key_prefix")
    list_filter = ("via",)
    search_fields = ("username", "ip", "id")
    date_hierarchy = "accepted_at"
    readonly_fields = [f.name for f in CloningAttestation._meta.fields]


@admin.register(ConsentRecord)
class ConsentRecordAdmin(_EvidenceAdmin):
    list_display = ("attested_at", "username", "voice_name", "ip", "api_key_prefix")
    search_fields = ("username", "voice_name", "ip", "id")
    date_hierarchy = "attested_at"
    readonly_fields = [f.name for f in ConsentRecord._meta.fields]


@admin.register(VoiceConsent)
class VoiceConsentAdmin(_EvidenceAdmin):
    """Consent recordings (OpenAI's voice consents): their owners delete them through
    the API, which refuses while a voice uses one."""

    list_display = ("created_at", "username", "name", "language", "duration_seconds", "ip", "api_key_prefix")
    search_fields = ("username", "name", "sha256", "ip", "id")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in VoiceConsent._meta.fields]
