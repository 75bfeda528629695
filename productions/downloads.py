"""Serving an assembled production: the whole or one chapter, encoded in the asked
format on first download and cached beside the master WAV (productions.assembly)."""

from __future__ import annotations

from pathlib import Path

from django.utils.text import slugify

from core import media
from core.errors import ApiError, Conflict
from productions import assembly as assemblymod
from productions.models import Chapter, Production

EXTENSIONS = {"mp3": ".mp3", "ogg": ".ogg", "flac": ".flac", "wav": ".wav", "m4b": ".m4b"}


def _require_completed(production: Production) -> None:
    if production.status != Production.Status.COMPLETED or not production.audio_file:
        raise Conflict(
            f"The production is {production.status}; its files exist once it is completed.",
            details={"status": production.status},
        )


def _format(fmt: str | None) -> str:
    fmt = "mp3" if fmt is None else fmt
    if fmt not in assemblymod.FORMATS:
        raise ApiError(
            f"Unknown format {fmt!r}.", details={"format": [f"Choose one of {', '.join(assemblymod.FORMATS)}."]}
        )
    return fmt


def production_audio_file(
    *, production: Production, fmt: str | None, chapter: int | None = None
) -> tuple[Path, str, str]:
    """(path, content type, download name) of the whole production, or of one chapter,
    in `fmt` (default mp3). The whole carries chapter markers where its container can."""
    fmt = _format(fmt)
    _require_completed(production)
    data = assemblymod.Assembly.from_dict(production.assembly or {})
    master = media.absolute(production.audio_file)
    if chapter is None:
        source, chapters, title, name = master, data.chapters, production.title, ""
    else:
        row = Chapter.objects.filter(production=production, index=chapter).first()
        source = master.with_name(f"chapter-{chapter:03d}.wav")
        if row is None or not source.exists():
            raise ApiError(
                f"There is no chapter {chapter}.", code="not_found", status_code=404, details={"chapter": chapter}
            )
        duration = data.chapter_durations.get(chapter, 0.0)
        chapters = [assemblymod.Span(index=1, start=0.0, end=duration, title=row.title)]
        title, name = f"{production.title} — {row.title}", f"-{chapter:02d}-{slugify(row.title) or 'chapter'}"
    target = source.with_suffix(EXTENSIONS[fmt])
    if fmt != "wav" and not target.exists():
        assemblymod.encode(source=source, fmt=fmt, target=target, chapters=chapters, title=title)
    elif fmt == "wav":
        target = source
    return target, assemblymod.CONTENT_TYPES[fmt], f"{production_file_stem(production)}{name}{EXTENSIONS[fmt]}"


def production_file_stem(production: Production) -> str:
    """What a download is named after: the production's title, as a file name."""
    return slugify(production.title) or f"production-{production.pk}"
