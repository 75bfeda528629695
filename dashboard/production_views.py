"""Dashboard pages for long-form productions (docs/productions.md "Long-form productions"): the list
with a create form, and one production filling in segment by segment. The pages render
what the selectors read; every change goes through the REST API from
static/js/productions.js (the session authenticates), so the page and the API share one
set of rules and error messages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from productions import assembly as assemblymod
from productions.selectors import production_get_owned, production_list
from productions.services import production_progress
from synthesis.quotas import quota_state
from voices.selectors import voice_list


@login_required
@require_GET
def productions(request: HttpRequest) -> HttpResponse:
    rows = list(production_list(user=request.user)[:50])
    listed = list(voice_list(user=request.user))
    voices = [v for v in listed if v.is_ready]
    return render(
        request,
        "dashboard/productions.html",
        {
            "section": "productions",
            "rows": [(p, production_progress(production=p)) for p in rows],
            "voices": voices,
            # Names for the form's messages: an error names a voice by its id.
            "voice_names": {str(v.pk): v.name for v in listed},
            "max_characters": settings.LONGFORM_MAX_CHARACTERS,
            "quota": quota_state(user=request.user),
        },
    )


@login_required
@require_GET
def production_detail(request: HttpRequest, production_id: Any) -> HttpResponse:
    production = production_get_owned(user=request.user, production_id=production_id)
    chapters = list(production.chapters.all())
    return render(
        request,
        "dashboard/production_detail.html",
        {
            "section": "productions",
            "production": production,
            "progress": production_progress(production=production),
            "chapters": chapters,
            # Segments name their chapter by index: the page shows the title a reader sees.
            "chapter_titles": {chapter.index: chapter.title for chapter in chapters},
            "formats": assemblymod.FORMATS,
        },
    )
