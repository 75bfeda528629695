from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import APIKey, User


@admin.register(User)
class SpeakerUserAdmin(UserAdmin):
    fieldsets = UserAdmin.fieldsets + (("Quotas (blank: the settings default)", {"fields": ("monthly_character_quota", "max_active_jobs")}),)
    list_display = ("username", "email", "is_staff", "monthly_character_quota", "max_active_jobs")


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "user", "created_at", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("revoked_at", "created_at")
    search_fields = ("prefix", "name", "user__username")
    # The hash is useless to a human and must never be edited; keys are minted via the API.
    exclude = ("secret_hash",)
    readonly_fields = ("prefix", "user", "created_at", "last_used_at", "scopes", "name")

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return False
