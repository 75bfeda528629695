"""The Pronunciation page: the account's dictionaries and their rules, edited through
the JSON API from static/js/pronunciation.js, and a word heard with and without them."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from dashboard.widgets import CLONING_OFF_FOR_USERS
from pronunciation.selectors import dictionaries_for
from speech.pronunciation import ALPHABETS


@login_required
@require_GET
def pronunciation(request: HttpRequest) -> HttpResponse:
    dictionaries = list(dictionaries_for(owner=request.user).order_by("name", "pk"))  # type: ignore[arg-type]
    rows = [{"dictionary": d, "rules": list(d.latest_version.rules) if d.latest_version else []} for d in dictionaries]
    return render(
        request,
        "dashboard/pronunciation.html",
        {
            "section": "pronunciation",
            "cloning_off_message": CLONING_OFF_FOR_USERS,
            "rows": rows,
            "alphabets": ALPHABETS,
        },
    )
