"""MFA_REQUIRED_FOR_STAFF: a staff member without a second factor reaches neither the
admin nor a staff page; they are sent to the two-factor page to enrol first."""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

# The admin and the dashboard's staff pages (the engines page, invitations).
STAFF_PATH_PREFIXES = ("/admin/", "/engines/", "/accounts/invitations/")


class StaffMFAMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            settings.MFA_REQUIRED_FOR_STAFF
            and request.path.startswith(STAFF_PATH_PREFIXES)
            and user is not None
            and user.is_authenticated
            and user.is_staff
            and not is_mfa_enabled(user)
        ):
            messages.warning(
                request, "Set up two-factor authentication (an authenticator app or a passkey) to use staff pages."
            )
            return redirect("mfa_index")
        return self.get_response(request)
