"""Jobs in the admin: read-only and filterable. Jobs are written by the synthesis
services and the queue only (docs/ARCHITECTURE.md), never by hand."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from synthesis.models import SynthesisJob


@admin.register(SynthesisJob)
class SynthesisJobAdmin(admin.ModelAdmin):
    list_display = (
        "queued_at",
        "owner",
        "status",
        "mode",
        "engine",
        "voice_name",
        "language",
        "character_count",
        "audio_duration",
    )
    list_filter = ("status", "mode", "engine", "language", "voice_builtin", "queued_at")
    search_fields = ("id", "owner__username", "voice_name", "completed_by", "error_code")
    date_hierarchy = "queued_at"
    list_select_related = ("owner",)
    readonly_fields = [f.name for f in SynthesisJob._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SynthesisJob | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: SynthesisJob | None = None) -> bool:
        return False
