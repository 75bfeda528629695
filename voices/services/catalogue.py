"""The built-in voice catalogue: one voice row per voice the engines offer here.

Synced when a process starts — the web process as its ASGI application is built
(speaker_site/asgi.py), the engine worker in its start-up, and on demand with
`python manage.py syncvoices` — never on a read: a GET does not write
(docs/ARCHITECTURE.md, "Built-in voices"). The engines a process can run are fixed by
its settings, so the catalogue cannot change while it runs.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from core.engines import get_registry
from voices.models import Voice

logger = logging.getLogger("speaker.voices")

_builtin_lock = threading.Lock()
_builtin_signature: tuple[Any, ...] | None = None


def builtin_voices_sync(*, force: bool = False) -> int:
    """Make the built-in voice rows match the engines' catalogue: one row per
    `get_registry().builtin_voices()` entry (owner None, ready). Built-ins whose engine
    can no longer offer them stay (jobs refer to them) as `pending_engine`.

    Cheap when nothing changed: the catalogue is compared with the one last synced by
    this process and one COUNT query confirms the database still matches (a fresh
    database, or another process, may have changed it). Returns rows written."""
    global _builtin_signature
    registry = get_registry()
    catalogue = registry.builtin_voices()
    signature = tuple(sorted((v.engine, v.name, v.language, tuple(v.languages), v.description) for v in catalogue))
    ready = Voice.objects.filter(is_builtin=True, status=Voice.Status.READY)
    if not force and signature == _builtin_signature and ready.count() == len(catalogue):
        return 0
    with _builtin_lock:
        written = 0
        seen: list[uuid.UUID] = []
        for item in catalogue:
            defaults = {
                "name": item.name,
                "description": item.description,
                "language": item.language,
                "languages": list(item.languages),
                "status": Voice.Status.READY,
                "status_message": "",
            }
            try:
                with transaction.atomic():
                    voice, created = Voice.objects.update_or_create(
                        is_builtin=True, engine=item.engine, builtin_key=item.name, defaults=defaults
                    )
            except IntegrityError:  # another process created it first
                voice = Voice.objects.get(is_builtin=True, engine=item.engine, builtin_key=item.name)
            seen.append(voice.pk)
            written += 1
        for engine in (
            Voice.objects.filter(is_builtin=True).exclude(pk__in=seen).values_list("engine", flat=True).distinct()
        ):
            reason = registry.reason(engine) or f"the {engine} engine no longer offers this voice"
            Voice.objects.filter(is_builtin=True, engine=engine).exclude(pk__in=seen).update(
                status=Voice.Status.PENDING_ENGINE,
                status_message=f"This voice needs the {engine} engine, which is not available here: {reason}",
                updated_at=timezone.now(),
            )
        _builtin_signature = signature
    return written


def builtin_voices_sync_at_startup() -> int | None:
    """The web process's sync, as its application is built. A database that is not
    there or not migrated yet must not keep the server from starting (health and
    readiness say what is wrong): it is logged, and the engine worker's start-up or
    `manage.py syncvoices` syncs later. Returns rows written, None when it could not."""
    try:
        return builtin_voices_sync()
    except DatabaseError as exc:
        logger.warning(
            "built-in voices not synced at start-up (%s); run `python manage.py syncvoices` once the "
            "database is migrated",
            exc,
        )
        return None
    finally:
        # This thread serves no request afterwards: keep no idle connection open.
        connection.close()
