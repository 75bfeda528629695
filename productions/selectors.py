"""Long-form productions, the reads: the owner's list, one production, its segments,
and captions."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from productions import assembly as assemblymod
from productions.models import Chapter, Production, ProductionSegment


def production_list(*, user: User) -> QuerySet[Production]:
    return Production.objects.filter(owner=user).order_by("-created_at")


def production_get_owned(*, user: User, production_id: Any) -> Production:
    """The user's production; another user's is a 404, like an unknown one."""
    return get_object_or_404(Production, pk=production_id, owner=user)


# A production's detail embeds at most this many chapters (a production may have up to
# LONGFORM_MAX_CHAPTERS); GET /api/v1/productions/{id}/chapters pages through them all.
CHAPTERS_EMBEDDED = 50


def chapter_list(*, production: Production) -> QuerySet[Chapter]:
    return Chapter.objects.filter(production=production).order_by("index")


def production_chapters_embedded(*, production: Production) -> list[Chapter]:
    chapters = list(chapter_list(production=production)[:CHAPTERS_EMBEDDED])
    for chapter in chapters:
        chapter.production = production  # the serializer reads its status and assembly
    return chapters


def segment_list(*, production: Production) -> QuerySet[ProductionSegment]:
    return ProductionSegment.objects.filter(production=production).select_related("chapter", "job").order_by("index")


def segment_get(*, production: Production, index: int) -> ProductionSegment:
    return get_object_or_404(segment_list(production=production), index=index)


def production_caption_cues(*, production: Production) -> tuple[list[tuple[float, float, str]], str]:
    """Caption cues for the assembled whole, and how they were made: from word timings
    when every segment has them ("words"), else one cue per segment ("segments")."""
    data = assemblymod.Assembly.from_dict(production.assembly or {"sample_rate": 0, "duration": 0})
    timings = {
        s.index: (s.job.timings or {}).get("words") if s.job is not None and isinstance(s.job.timings, dict) else None
        for s in segment_list(production=production)
    }
    if data.segments and all(timings.get(span.index) for span in data.segments):
        cues: list[tuple[float, float, str]] = []
        for span in data.segments:
            cues.extend(assemblymod.word_cues(timings[span.index] or [], span.start))
        return cues, "words"
    return [(span.start, span.end, span.text) for span in data.segments], "segments"
