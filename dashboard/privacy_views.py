"""The "Your data" page (docs/privacy.md): export one's data and erase one's account.
Both actions go through the JSON API from static/js/privacy.js."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from privacy.exports import EXPORT_LIFETIME
from privacy.models import DataExport


@login_required
@require_GET
def your_data(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "dashboard/privacy.html",
        {
            "section": "privacy",
            "exports": list(DataExport.objects.filter(owner=request.user)[:10]),
            "export_hours": int(EXPORT_LIFETIME.total_seconds() // 3600),
            "retention_days": settings.AUDIO_RETENTION_DAYS,
        },
    )
