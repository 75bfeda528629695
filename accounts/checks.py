"""`check --deploy`: a production server whose email goes to the console cannot verify
an address or send a password reset."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"


@register(Tags.security, deploy=True)
def check_email_delivered(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not settings.PRODUCTION or settings.EMAIL_BACKEND != CONSOLE_BACKEND:
        return []
    return [
        Warning(
            "EMAIL_URL is console:// in production: verification links, password resets and invitations "
            "are printed to the log instead of being sent, so nobody can verify an address or recover an account.",
            hint="Set EMAIL_URL to your mail server, e.g. smtp+tls://user:password@mail.example.com:587, "
            "and DEFAULT_FROM_EMAIL to the sender address.",
            id="accounts.W001",
        )
    ]
