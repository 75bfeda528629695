"""Productions in the admin: read-only and filterable; changes go through the
productions services (pause, resume, cancel, delete), which keep jobs, billing and
files in step."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from productions.models import Production


@admin.register(Production)
class ProductionAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "title",
        "owner",
        "status",
        "voice_name",
        "character_count",
        "segments_total",
        "audio_duration",
    )
    list_filter = ("status", "language", "created_at")
    search_fields = ("id", "title", "owner__username", "voice_name")
    date_hierarchy = "created_at"
    list_select_related = ("owner",)
    readonly_fields = [f.name for f in Production._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Production | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Production | None = None) -> bool:
        return False
