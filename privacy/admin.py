"""Staff erase accounts from the Django admin: an action on the user list, with a
confirmation page, through the same privacy.erasure.account_erase as a person's own
erasure, audited with the staff member as its actor (docs/privacy.md)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from accounts.admin import SpeakerUserAdmin
from accounts.models import User
from privacy.erasure import account_erase


def _refusal(request: HttpRequest, user: User) -> str | None:
    """Why this staff member may not erase `user` here, or None."""
    if user.pk == request.user.pk:
        return f"{user.username}: erase your own account from your dashboard (Your data), not here."
    if user.is_superuser and not request.user.is_superuser:
        return f"{user.username}: only a superuser may erase a superuser."
    return None


@admin.action(description="Erase selected accounts and all their data", permissions=["delete"])
def erase_accounts(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[User]) -> Any:
    users = list(queryset.order_by("username"))
    refusals = [reason for user in users if (reason := _refusal(request, user))]
    if refusals:
        for reason in refusals:
            modeladmin.message_user(request, reason, messages.ERROR)
        return None
    if request.POST.get("confirm_erase") != "yes":
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": "Erase accounts",
            "users": users,
            "opts": modeladmin.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/privacy/erase_confirmation.html", context)
    for user in users:
        account_erase(user=user, by=request.user)  # type: ignore[arg-type]
    modeladmin.message_user(request, f"Erased {len(users)} account(s) and everything in them.", messages.SUCCESS)
    return None


class ErasableUserAdmin(SpeakerUserAdmin):
    actions = [*(SpeakerUserAdmin.actions or []), erase_accounts]


admin.site.unregister(User)
admin.site.register(User, ErasableUserAdmin)
