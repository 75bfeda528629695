"""A cloned voice's conditioning: computed once when its samples change, by the engine
worker, stored on the voice and reused by every request (docs/ARCHITECTURE.md,
"Engines"). Samples changing queue the voice (`processing`, or `pending_engine` when no
cloning engine can run here); the worker calls `voice_prepare` for each queued voice
and `voice_requeue_pending` on every sweep."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core import wakeup
from core.engines import get_registry
from core.events import send_user_event
from speech.engines.errors import EngineError, EngineUnavailable
from voices.models import Voice
from voices.selectors import cloning_engine_info

logger = logging.getLogger("speaker.voices")


def _wake_worker() -> None:
    # Looked up when called: the embedded worker registers its waker at run time.
    wakeup.wake_worker()


def voice_mark_samples_changed(voice: Voice) -> None:
    """Inside a transaction: conditioning is stale. Queue the voice for the worker (or
    park it when no cloning engine can run here) and wake the worker after commit."""
    info = cloning_engine_info()
    status = Voice.Status.PROCESSING if info.available else Voice.Status.PENDING_ENGINE
    message = "" if info.available else info.missing_message
    Voice.objects.filter(pk=voice.pk).update(
        samples_version=F("samples_version") + 1,
        status=status,
        status_message=message,
        engine=info.name,
        languages=list(info.languages),
        # Conditioning made from samples that are gone must not outlive them.
        conditioning=None,
        conditioning_engine="",
        conditioned_at=None,
        updated_at=timezone.now(),
    )
    if status == Voice.Status.PROCESSING:
        transaction.on_commit(_wake_worker)


def _voice_event(voice: Voice, event: str, **extra: Any) -> None:
    if voice.owner_id is None:
        return
    payload = {"voice_id": str(voice.pk), "name": voice.name, "status": voice.status, **extra}
    send_user_event(user_id=voice.owner_id, event=event, payload=payload)


def _set_status_if_current(voice: Voice, version: int, status: str, message: str) -> bool:
    """Change the status unless the samples changed meanwhile (then the voice is
    already queued again and this outcome is stale)."""
    return bool(
        Voice.objects.filter(pk=voice.pk, samples_version=version, status=Voice.Status.PROCESSING).update(
            status=status, status_message=message, updated_at=timezone.now()
        )
    )


def voice_prepare(*, voice_id: Any) -> Voice:
    """Compute and store a cloned voice's conditioning (the worker calls this for each
    `processing` voice). Samples are grouped by emotion label and given to the cloning
    engine's `prepare_voice` once; the result is stored only if the samples did not
    change meanwhile. Ends `ready` (event `voice.ready`), `failed` (event
    `voice.failed`, with the message) or `pending_engine` (no cloning engine here)."""
    voice = Voice.objects.defer("conditioning").get(pk=voice_id)
    if voice.is_builtin or voice.status != Voice.Status.PROCESSING:
        return voice
    version = voice.samples_version
    groups: dict[str, list[Path]] = {}
    for sample in voice.samples.all():
        groups.setdefault(sample.emotion, []).append(sample.path)

    def fail(message: str) -> Voice:
        if _set_status_if_current(voice, version, Voice.Status.FAILED, message):
            voice.refresh_from_db()
            _voice_event(voice, "voice.failed", message=message)
        else:
            voice.refresh_from_db()
        return voice

    engine = get_registry().cloning_engine()
    if engine is None:
        _set_status_if_current(voice, version, Voice.Status.PENDING_ENGINE, cloning_engine_info().missing_message)
        voice.refresh_from_db()
        return voice
    if not groups:
        return fail("The voice has no samples.")
    try:
        conditioning = engine.prepare_voice(groups)
    except EngineUnavailable as exc:
        message = f"Voice cloning needs the {engine.name} engine, which is not available here: {exc.message}"
        _set_status_if_current(voice, version, Voice.Status.PENDING_ENGINE, message)
        voice.refresh_from_db()
        return voice
    except EngineError as exc:
        return fail(f"The {engine.name} engine could not prepare this voice: {exc.message}")
    except Exception:
        logger.exception("preparing voice %s failed", voice.pk)
        return fail(f"The {engine.name} engine failed while preparing this voice; try uploading the samples again.")
    stored = Voice.objects.filter(pk=voice.pk, samples_version=version, status=Voice.Status.PROCESSING).update(
        conditioning=conditioning,
        conditioning_engine=engine.name,
        conditioned_at=timezone.now(),
        engine=engine.name,
        status=Voice.Status.READY,
        status_message="",
        updated_at=timezone.now(),
    )
    voice.refresh_from_db()
    if stored:
        _voice_event(voice, "voice.ready", engine=engine.name)
    return voice


def voice_requeue_pending() -> int:
    """Put `pending_engine` cloned voices back in the queue once a cloning engine can
    run here (the worker calls this every sweep: one query when there are none)."""
    pending = Voice.objects.filter(status=Voice.Status.PENDING_ENGINE, is_builtin=False)
    if not pending.exists():
        return 0
    info = cloning_engine_info()
    if not info.available:
        return 0
    ids = list(pending.values_list("pk", flat=True))
    count = Voice.objects.filter(pk__in=ids, status=Voice.Status.PENDING_ENGINE).update(
        status=Voice.Status.PROCESSING, status_message="", engine=info.name, updated_at=timezone.now()
    )
    if count:
        transaction.on_commit(_wake_worker)
    return count
