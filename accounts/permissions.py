"""Who may call what: authenticated callers, and for API keys the scopes the view needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework import permissions
from rest_framework.request import Request

if TYPE_CHECKING:  # importing views here would be circular (DRF settings load this)
    from rest_framework.views import APIView

from accounts.models import APIKey


def required_scopes(view: APIView, method: str) -> set[str]:
    """Views declare `required_scopes = {"GET": {...}, "POST": {...}}` (or "*")."""
    declared = getattr(view, "required_scopes", {}) or {}
    return set(declared.get(method, declared.get("*", set())))


class HasScopes(permissions.BasePermission):
    """Authenticated, and an API key carries every scope the view needs for this method.
    Session users (the dashboard) act with all scopes. Views with `public_metadata = True`
    are open to anonymous callers when API_KEY_REQUIRED is false."""

    message = "This API key lacks the scope this action needs."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if getattr(view, "public_metadata", False) and not settings.API_KEY_REQUIRED:
            return True
        if not (request.user and request.user.is_authenticated):
            return False
        if isinstance(request.auth, APIKey):
            missing = required_scopes(view, request.method or "GET") - set(request.auth.scopes)
            if missing:
                self.message = f"This API key lacks the scope(s): {', '.join(sorted(missing))}."
                return False
        return True
