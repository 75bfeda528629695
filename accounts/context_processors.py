"""What every page needs to know about accounts: whether to offer sign-up."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def accounts(request: HttpRequest) -> dict[str, Any]:
    return {"signup_mode": settings.SIGNUP_MODE}
