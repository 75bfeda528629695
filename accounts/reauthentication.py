"""How fresh a dashboard session's proof of identity is. Creating an API key from the
dashboard asks for the password (or a second factor) again when the last sign-in or
re-authentication of the session is older than REAUTHENTICATION_SECONDS: a session
cookie left in a browser must not be enough to mint a long-lived credential."""

from __future__ import annotations

import time

from allauth.account.authentication import get_authentication_records
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

SIGNED_IN_AT = "speaker_signed_in_at"


def session_signed_in(*, request: HttpRequest) -> None:
    """Stamp the session at sign-in (every sign-in: allauth's pages, sign-up, tests)."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SIGNED_IN_AT] = time.time()


def session_recently_authenticated(*, request: HttpRequest) -> bool:
    stamps = [request.session.get(SIGNED_IN_AT) or 0.0]
    stamps += [record.get("at", 0.0) for record in get_authentication_records(request, request.user)]
    return time.time() - max(stamps) < settings.REAUTHENTICATION_SECONDS


def reauthentication_url(*, next_url: str) -> str:
    return f"{reverse('account_reauthenticate')}?next={next_url}"
