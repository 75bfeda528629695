"""Users (with their quotas) and API keys in the Django admin.

Every change an operator makes here is written to the audit log (`monitoring.services.
audit_record`), with the fields it changed and their old and new values (never a
password). A key's credentials and lifetime are not editable: its hash, prefix,
`revoked_at` and `expires_at` are read-only, so the admin can revoke a key (the action
below, through `apikey_revoke`) but never un-revoke it or extend its life.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from accounts.invitations import invitation_create
from accounts.models import APIKey, Invitation, User
from accounts.services import apikey_revoke
from monitoring.services import audit_record

# The admin signs in through allauth's page: the same throttle, audit and second factor.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

_DIFF_ATTR = "_speaker_admin_diff"
# Field values never copied into the audit log (the hash of a password or a key).
_SECRET_FIELDS = {"password", "secret_hash"}


def _value(obj: Model, field: str) -> Any:
    """The field's value as JSON (the audit row's details are a JSONField)."""
    value = getattr(obj, field, None)
    if isinstance(value, Model):
        value = value.pk
    elif hasattr(value, "all"):  # many-to-many (groups, permissions): their ids
        value = sorted(item.pk for item in value.all())
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _is_secret(field: str) -> bool:
    return field in _SECRET_FIELDS or "password" in field


class AuditedAdmin(admin.ModelAdmin):
    """Audits additions, changes and deletions made through this admin page. The
    admin's own log hooks are used because every admin view (forms, the password page,
    bulk actions) goes through them."""

    audit_target: str = ""

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        before = type(obj).objects.filter(pk=obj.pk).first() if change and obj.pk else None
        super().save_model(request, obj, form, change)
        diff = {}
        for field in getattr(form, "changed_data", []):
            if _is_secret(field):
                diff[field] = "[changed]"
            elif before is not None:
                diff[field] = {"old": _value(before, field), "new": _value(obj, field)}
            else:
                diff[field] = {"new": _value(obj, field)}
        setattr(request, _DIFF_ATTR, diff)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        diff = getattr(request, _DIFF_ATTR, {})
        for field, entry in diff.items():  # many-to-many values exist only after this
            if isinstance(entry, dict) and hasattr(getattr(form.instance, field, None), "all"):
                entry["new"] = _value(form.instance, field)

    def _audit(self, request: HttpRequest, action: str, obj: Model, message: Any = None) -> None:
        details: dict[str, Any] = {"object": str(obj)}
        diff = getattr(request, _DIFF_ATTR, None)
        if diff:
            details["fields"] = diff
        if message:
            details["change_message"] = message
        audit_record(
            action=f"admin.{self.audit_target}.{action}",
            user=request.user,
            target_type=self.audit_target,
            target_id=str(obj.pk),
            details=details,
        )

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        self._audit(request, "created", obj, message)
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        self._audit(request, "changed", obj, message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        for obj in queryset:
            self._audit(request, "deleted", obj)
        return super().log_deletions(request, queryset)


@admin.register(User)
class SpeakerUserAdmin(AuditedAdmin, UserAdmin):
    audit_target = "user"
    fieldsets = UserAdmin.fieldsets + (
        ("Quotas (blank: the settings default)", {"fields": ("monthly_character_quota", "max_active_jobs")}),
    )
    list_display = ("username", "email", "is_staff", "monthly_character_quota", "max_active_jobs")


@admin.register(APIKey)
class APIKeyAdmin(AuditedAdmin):
    audit_target = "api_key"
    list_display = ("name", "prefix", "user", "created_at", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("revoked_at", "created_at")
    search_fields = ("prefix", "name", "user__username")
    # The hash is useless to a human and must never be edited; keys are minted via the
    # API. Nothing that grants access is editable: a cleared revoked_at or a later
    # expires_at would revive or extend a credential behind its owner's back.
    exclude = ("secret_hash",)
    readonly_fields = ("prefix", "user", "created_at", "last_used_at", "scopes", "name", "expires_at", "revoked_at")
    actions = ["revoke_keys"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[APIKey]) -> None:
        revoked = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            apikey_revoke(api_key=api_key, actor=request.user)  # audited there
            revoked += 1
        self.message_user(request, f"Revoked {revoked} key(s).", messages.SUCCESS)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations made here are mailed like the dashboard's; their link is shown once,
    in the message after saving. Nothing of a sent invitation is editable: delete it to
    withdraw it."""

    list_display = ("email", "monthly_character_quota", "created_by", "created_at", "expires_at", "accepted_at")
    search_fields = ("email",)
    fields = ("email", "monthly_character_quota", "expires_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("email", "monthly_character_quota", "expires_at", "accepted_at", "accepted_by") if obj else ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return self.fields + (("accepted_at", "accepted_by") if obj else ())

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"expires_at": timezone.now() + timedelta(days=settings.INVITATION_DAYS)}

    def save_model(self, request: HttpRequest, obj: Invitation, form: Any, change: bool) -> None:
        if change:
            return
        new = invitation_create(
            request=request,
            email=obj.email,
            created_by=request.user,
            monthly_character_quota=obj.monthly_character_quota,
            expires_at=obj.expires_at,
        )
        obj.pk, obj.token_hash, obj.created_at = new.invitation.pk, new.invitation.token_hash, new.invitation.created_at
        obj.email, obj.created_by = new.invitation.email, request.user
        obj._state.adding = False
        shown_once = f"Invitation sent to {obj.email}. Its link, shown only now: {new.url}"
        self.message_user(request, shown_once, messages.SUCCESS)
