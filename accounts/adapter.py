"""allauth's hooks for Speaker: who may sign up (SIGNUP_MODE and invitations), which
addresses count as verified, and the sign-in error wording."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest

from accounts import invitations

_MISMATCH = "Please enter a correct username and password (or email and password)."


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "username_password_mismatch": _MISMATCH,
        "email_password_mismatch": _MISMATCH,
    }

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        if settings.SIGNUP_MODE == "open":
            return True
        if settings.SIGNUP_MODE == "closed":
            return False
        return invitations.invitation_usable(token=request.session.get(invitations.SESSION_KEY)) is not None

    def is_email_verified(self, request: HttpRequest, email: str) -> bool:
        """An invitation's address is verified: its link reached that mailbox."""
        invitation = invitations.invitation_usable(token=request.session.get(invitations.SESSION_KEY))
        if invitation is not None and invitation.email == email.strip().lower():
            return True
        return super().is_email_verified(request, email)
