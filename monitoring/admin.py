"""The audit log in the admin: read-only, filterable, searchable."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from monitoring.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "action",
        "outcome",
        "username",
        "api_key_prefix",
        "target_type",
        "target_id",
        "client_ip",
    )
    list_filter = ("action", "outcome", "created_at", "user")
    search_fields = ("client_ip", "target_type", "target_id", "username", "request_id")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False
