"""Voice business logic: the built-in catalogue, cloned voices and their samples,
consent, conditioning, and resolving a voice for synthesis.

Files and rows move together. An upload is copied (size-capped) into MEDIA_ROOT,
decoded and checked there, normalised into a temporary file next to its final place,
and only then, inside one transaction with its rows, renamed into place. Any error
removes every file it made, so a rejected upload leaves no file and no row. Deleted
samples' and voices' files are removed after the deletion commits (voices.signals,
so that admin deletions and cascades from a deleted user clean up too).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone

from monitoring.services import audit_record
from core.errors import ApiError, Conflict
from speech.text import DEFAULT_EMOTION, EMOTIONS
from voices import audio_validation
from voices.models import CONSENT_STATEMENT, ConsentRecord, Voice, VoiceSample
from voices.selectors import cloning_engine_info

logger = logging.getLogger("speaker.voices")

_INCOMING_DIR = "voices/.incoming"


# ------------------------------------------------------------------- media paths


def _media_root() -> Path:
    return Path(settings.MEDIA_ROOT).resolve()


def _voice_dir(voice_id: uuid.UUID | str) -> Path:
    return _media_root() / "voices" / str(uuid.UUID(str(voice_id)))


def _remove_voice_dir(voice_id: uuid.UUID | str) -> None:
    folder = _voice_dir(voice_id)
    if folder.is_dir() and folder.resolve().is_relative_to(_media_root() / "voices"):
        shutil.rmtree(folder, ignore_errors=True)


def _remove_dir_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty, or already gone


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        logger.warning("could not remove %s", path, exc_info=True)


# --------------------------------------------------------------- request details


def _client_ip(request: Any) -> str | None:
    django_request = getattr(request, "_request", request)
    raw = getattr(django_request, "META", {}).get("REMOTE_ADDR", "") if django_request is not None else ""
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def _user_agent(request: Any) -> str:
    django_request = getattr(request, "_request", request)
    if django_request is None:
        return ""
    return django_request.headers.get("User-Agent", "")[:512]


def _api_key_prefix(request: Any) -> str:
    django_request = getattr(request, "_request", request)
    key = getattr(django_request, "_speaker_api_key", None) if django_request is not None else None
    return key.prefix if key is not None else ""


# ------------------------------------------------------------ built-in catalogue

_builtin_lock = threading.Lock()
_builtin_signature: tuple[Any, ...] | None = None


def builtin_voices_sync(*, force: bool = False) -> int:
    """Make the built-in voice rows match the engines' catalogue: one row per
    `get_registry().builtin_voices()` entry (owner None, ready). Built-ins whose engine
    can no longer offer them stay (jobs refer to them) as `pending_engine`.

    Cheap when nothing changed: the catalogue is compared with the one last synced by
    this process and one COUNT query confirms the database still matches (a fresh
    database, or another process, may have changed it). Returns rows written."""
    from core.engines import get_registry

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
        for engine in Voice.objects.filter(is_builtin=True).exclude(pk__in=seen).values_list("engine", flat=True).distinct():
            reason = registry.reason(engine) or f"the {engine} engine no longer offers this voice"
            Voice.objects.filter(is_builtin=True, engine=engine).exclude(pk__in=seen).update(
                status=Voice.Status.PENDING_ENGINE,
                status_message=f"This voice needs the {engine} engine, which is not available here: {reason}",
                updated_at=timezone.now(),
            )
        _builtin_signature = signature
    return written


# ------------------------------------------------------------------ sample intake


@dataclass
class _PreparedSample:
    sample_id: uuid.UUID
    temp_path: Path  # normalised wav, next to its final place
    final_path: Path
    relative: str  # what VoiceSample.file stores
    emotion: str
    sha256: str
    size_bytes: int
    original_name: str
    validated: audio_validation.ValidatedSample


_STALE_INCOMING_SECONDS = 3600


def _remove_stale_incoming(incoming: Path) -> None:
    """Copies left by a process that died mid-upload (every live one is removed in a
    `finally` within seconds)."""
    cutoff = time.time() - _STALE_INCOMING_SECONDS
    for leftover in incoming.glob("*.upload"):
        try:
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
        except OSError:
            pass


def _emotions_for(count: int, emotions: Sequence[str] | None) -> list[str]:
    labels = [str(e).strip().lower() for e in (emotions or []) if str(e).strip()]
    if not labels:
        return [DEFAULT_EMOTION] * count
    if len(labels) != count:
        raise ApiError(
            f"Give one emotion label per sample ({count} samples, {len(labels)} labels), or none.",
            details={"emotions": [f"expected {count} labels in the order of the samples"]},
        )
    unknown = sorted({label for label in labels if label not in EMOTIONS})
    if unknown:
        raise ApiError(
            f"Unknown emotion label(s): {', '.join(unknown)}.",
            details={"emotions": [f"use one of {', '.join(EMOTIONS)}"]},
        )
    return labels


def _safe_display_name(upload: UploadedFile) -> str:
    name = os.path.basename(str(getattr(upload, "name", "") or ""))
    return "".join(ch for ch in name if ch.isprintable())[:255]


def _prepare_samples(
    voice_id: uuid.UUID, uploads: Sequence[UploadedFile], emotions: list[str]
) -> list[_PreparedSample]:
    """Copy, validate and normalise every upload. Leaves only the normalised
    temporary files; on any error removes everything it made and raises."""
    root = _media_root()
    incoming = root / _INCOMING_DIR
    incoming.mkdir(parents=True, exist_ok=True)
    _remove_stale_incoming(incoming)
    folder = _voice_dir(voice_id)
    folder_existed = folder.is_dir()
    folder.mkdir(parents=True, exist_ok=True)
    prepared: list[_PreparedSample] = []
    try:
        for index, upload in enumerate(uploads):
            display = _safe_display_name(upload)
            # A server-made name without a meaningful extension: the format is decided by
            # the content alone (libsndfile never falls back to guessing from a name).
            raw = incoming / f"{uuid.uuid4().hex}.upload"
            try:
                sha256, size = audio_validation.copy_upload(upload, raw)
                validated = audio_validation.validate_sample(raw)
            except ApiError as exc:
                exc.details.setdefault("sample_index", index)
                if display:
                    exc.details.setdefault("filename", display)
                raise
            finally:
                _unlink_quietly(raw)
            sample_id = uuid.uuid4()
            final = folder / f"{sample_id}.wav"
            temp = folder / f".{sample_id}.wav.part"
            prepared.append(
                _PreparedSample(
                    sample_id=sample_id,
                    temp_path=temp,
                    final_path=final,
                    relative=f"voices/{voice_id}/{sample_id}.wav",
                    emotion=emotions[index],
                    sha256=sha256,
                    size_bytes=size,
                    original_name=display,
                    validated=validated,
                )
            )
            audio_validation.write_wav(validated, temp)
    except BaseException:
        for item in prepared:
            _unlink_quietly(item.temp_path)
        if not folder_existed:
            _remove_dir_if_empty(folder)
        raise
    return prepared


def _discard_prepared(prepared: Sequence[_PreparedSample], *, voice_id: uuid.UUID, folder_existed: bool) -> None:
    for item in prepared:
        _unlink_quietly(item.temp_path)
        _unlink_quietly(item.final_path)
    if not folder_existed:
        _remove_dir_if_empty(_voice_dir(voice_id))


def _check_duplicates(prepared: Sequence[_PreparedSample], existing: set[str]) -> None:
    seen = set(existing)
    for index, item in enumerate(prepared):
        if item.sha256 in seen:
            raise Conflict(
                "This sample was already uploaded to this voice.",
                details={"sample_index": index, "sha256": item.sha256},
            )
        seen.add(item.sha256)


def _store_samples(
    *, voice: Voice, prepared: Sequence[_PreparedSample], consent: ConsentRecord, request: Any
) -> list[VoiceSample]:
    """Inside the caller's transaction: rows, audit, then the atomic renames."""
    rows = []
    for item in prepared:
        rows.append(
            VoiceSample.objects.create(
                id=item.sample_id,
                voice=voice,
                file=item.relative,
                emotion=item.emotion,
                duration_seconds=round(item.validated.duration_seconds, 3),
                speech_seconds=round(item.validated.speech_seconds, 3),
                sample_rate=item.validated.sample_rate,
                sha256=item.sha256,
                original_format=item.validated.original_format,
                original_name=item.original_name,
                size_bytes=item.size_bytes,
                consent=consent,
            )
        )
        audit_record(
            action="sample.uploaded",
            user=voice.owner,
            target_type="voice_sample",
            target_id=str(item.sample_id),
            details={
                "voice_id": str(voice.pk),
                "sha256": item.sha256,
                "emotion": item.emotion,
                "duration_seconds": round(item.validated.duration_seconds, 3),
                "original_format": item.validated.original_format,
                "size_bytes": item.size_bytes,
            },
        )
    for item in prepared:
        os.replace(item.temp_path, item.final_path)  # same folder: atomic
    return rows


def _attest_consent(*, user: Any, voice: Voice, prepared: Sequence[_PreparedSample], request: Any) -> ConsentRecord:
    record = ConsentRecord.objects.create(
        user=user,
        username=getattr(user, "username", "") or "",
        voice=voice,
        voice_name=voice.name,
        ip=_client_ip(request),
        user_agent=_user_agent(request),
        api_key_prefix=_api_key_prefix(request),
        statement=CONSENT_STATEMENT,
        sample_sha256=[item.sha256 for item in prepared],
    )
    audit_record(
        action="consent.attested",
        user=user,
        target_type="consent",
        target_id=str(record.pk),
        details={"voice_id": str(voice.pk), "voice_name": voice.name, "sample_sha256": record.sample_sha256},
    )
    return record


def _require_consent(consent: bool) -> None:
    if consent is not True:
        raise ApiError(
            "Cloning a voice needs the speaker's consent: send consent=true to attest that the person "
            "whose voice is in the samples agreed to have it recorded and cloned.",
            details={"consent": [f"consent=true is required. {CONSENT_STATEMENT}"]},
        )


def _require_samples(uploads: Sequence[UploadedFile]) -> None:
    if not uploads:
        raise ApiError("At least one sample is required.", details={"samples": ["upload at least one audio file"]})


def _mark_samples_changed(voice: Voice) -> None:
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


def _wake_worker() -> None:
    from core.wakeup import wake_worker

    wake_worker()


# ----------------------------------------------------------------- cloned voices


def _clean_name(name: str) -> str:
    cleaned = " ".join(str(name or "").split())
    if not cleaned:
        raise ApiError("A voice needs a name.", details={"name": ["this field may not be blank"]})
    return cleaned[:100]


def _check_language(language: str) -> str:
    info = cloning_engine_info()
    code = str(language or "").strip().lower().replace("_", "-")
    if code not in info.languages:
        raise ApiError(
            f"Cloned voices speak the {info.name} engine's languages; {language!r} is not one of them.",
            details={"language": [f"use one of {', '.join(info.languages)}"]},
        )
    return code


def _check_name_free(*, user: Any, name: str, exclude: uuid.UUID | None = None) -> None:
    clash = Voice.objects.owned_by(user).filter(name__iexact=name)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise Conflict(f"You already have a voice named {name!r}.", details={"name": ["voice names must be unique"]})


def voice_create(
    *,
    user: Any,
    name: str,
    language: str,
    samples: Sequence[UploadedFile],
    consent: bool,
    description: str = "",
    emotions: Sequence[str] | None = None,
    request: Any = None,
) -> Voice:
    """Create a cloned voice from consented samples. The voice comes back
    `processing` (the worker prepares it) or `pending_engine` (no cloning engine here)."""
    _require_consent(consent)
    name = _clean_name(name)
    language = _check_language(language)
    _require_samples(samples)
    if len(samples) > settings.VOICE_MAX_SAMPLES:
        raise ApiError(
            f"A voice may have at most {settings.VOICE_MAX_SAMPLES} samples; {len(samples)} were sent.",
            details={"samples": [f"at most {settings.VOICE_MAX_SAMPLES} samples"]},
        )
    labels = _emotions_for(len(samples), emotions)
    _check_name_free(user=user, name=name)

    voice_id = uuid.uuid4()
    prepared = _prepare_samples(voice_id, samples, labels)
    try:
        _check_duplicates(prepared, set())
        info = cloning_engine_info()
        with transaction.atomic():
            voice = Voice.objects.create(
                id=voice_id,
                owner=user,
                name=name,
                description=str(description or "")[:1000],
                language=language,
                languages=list(info.languages),
                engine=info.name,
                is_builtin=False,
                status=Voice.Status.PROCESSING,
            )
            consent_record = _attest_consent(user=user, voice=voice, prepared=prepared, request=request)
            _store_samples(voice=voice, prepared=prepared, consent=consent_record, request=request)
            _mark_samples_changed(voice)
            audit_record(
                action="voice.created",
                user=user,
                target_type="voice",
                target_id=str(voice.pk),
                details={
                    "name": voice.name,
                    "language": voice.language,
                    "engine": info.name,
                    "samples": [item.sha256 for item in prepared],
                    "consent_id": str(consent_record.pk),
                },
            )
    except IntegrityError as exc:
        _discard_prepared(prepared, voice_id=voice_id, folder_existed=False)
        raise Conflict(f"You already have a voice named {name!r}.", details={"name": ["voice names must be unique"]}) from exc
    except BaseException:
        _discard_prepared(prepared, voice_id=voice_id, folder_existed=False)
        raise
    voice.refresh_from_db()
    return voice


def voice_samples_add(
    *,
    voice: Voice,
    samples: Sequence[UploadedFile],
    consent: bool,
    emotions: Sequence[str] | None = None,
    request: Any = None,
) -> list[VoiceSample]:
    """Add consented samples to a cloned voice; its conditioning is recomputed.
    409 when the voice would exceed VOICE_MAX_SAMPLES or a sample is already there."""
    if voice.is_builtin:
        raise _builtin_immutable()
    _require_consent(consent)
    _require_samples(samples)
    labels = _emotions_for(len(samples), emotions)

    def check_room(existing: int) -> None:
        if existing + len(samples) > settings.VOICE_MAX_SAMPLES:
            raise Conflict(
                f"A voice may have at most {settings.VOICE_MAX_SAMPLES} samples; this one has {existing} "
                f"and {len(samples)} more were sent.",
                details={"max_samples": settings.VOICE_MAX_SAMPLES, "existing": existing},
            )

    check_room(voice.samples.count())  # before the expensive part
    prepared = _prepare_samples(voice.pk, samples, labels)
    try:
        with transaction.atomic():
            # Lock the voice: concurrent uploads must not both pass the cap.
            locked = Voice.objects.select_for_update().defer("conditioning").get(pk=voice.pk)
            existing = set(VoiceSample.objects.filter(voice=locked).values_list("sha256", flat=True))
            check_room(len(existing))
            _check_duplicates(prepared, existing)
            consent_record = _attest_consent(user=locked.owner, voice=locked, prepared=prepared, request=request)
            rows = _store_samples(voice=locked, prepared=prepared, consent=consent_record, request=request)
            _mark_samples_changed(locked)
    except BaseException:
        _discard_prepared(prepared, voice_id=voice.pk, folder_existed=True)
        raise
    voice.refresh_from_db()
    return rows


def _builtin_immutable() -> ApiError:
    return ApiError(
        "Built-in voices cannot be changed or deleted.", code="permission_denied", status_code=403
    )


def voice_update(
    *,
    voice: Voice,
    name: str | None = None,
    description: str | None = None,
    language: str | None = None,
    request: Any = None,
) -> Voice:
    """Rename, describe or change the primary language of a cloned voice."""
    if voice.is_builtin:
        raise _builtin_immutable()
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = _clean_name(name)
        _check_name_free(user=voice.owner, name=changes["name"], exclude=voice.pk)
    if description is not None:
        changes["description"] = str(description)[:1000]
    if language is not None:
        changes["language"] = _check_language(language)
    if not changes:
        return voice
    try:
        with transaction.atomic():
            Voice.objects.filter(pk=voice.pk).update(**changes, updated_at=timezone.now())
            audit_record(
                action="voice.updated",
                user=voice.owner,
                target_type="voice",
                target_id=str(voice.pk),
                details={key: value for key, value in changes.items()},
            )
    except IntegrityError as exc:
        raise Conflict("You already have a voice with that name.", details={"name": ["voice names must be unique"]}) from exc
    voice.refresh_from_db()
    return voice


def voice_delete(*, voice: Voice, request: Any = None) -> None:
    """Delete a cloned voice, its samples and (after commit) their files. Consent
    records stay: they are the evidence of what was attested."""
    if voice.is_builtin:
        raise _builtin_immutable()
    voice_id = voice.pk
    hashes = list(voice.samples.values_list("sha256", flat=True))
    with transaction.atomic():
        audit_record(
            action="voice.deleted",
            user=voice.owner,
            target_type="voice",
            target_id=str(voice_id),
            details={"name": voice.name, "samples": hashes},
        )
        # voices.signals removes the files once this commits.
        Voice.objects.filter(pk=voice_id).delete()


def voice_sample_delete(*, sample: VoiceSample, request: Any = None) -> None:
    """Delete one sample and (after commit) its file; the voice is prepared again.
    409 for a voice's last sample: delete the voice instead."""
    voice = sample.voice
    if voice.is_builtin:
        raise _builtin_immutable()
    with transaction.atomic():
        locked = Voice.objects.select_for_update().defer("conditioning").get(pk=voice.pk)
        if VoiceSample.objects.filter(voice=locked).count() <= 1:
            raise Conflict(
                "This is the voice's only sample; delete the voice instead, or add another sample first.",
                details={"sample": str(sample.pk)},
            )
        VoiceSample.objects.filter(pk=sample.pk).delete()
        audit_record(
            action="sample.deleted",
            user=locked.owner,
            target_type="voice_sample",
            target_id=str(sample.pk),
            details={"voice_id": str(locked.pk), "sha256": sample.sha256},
        )
        _mark_samples_changed(locked)  # voices.signals removes the file once this commits


# ------------------------------------------------------------------ conditioning


def _voice_event(voice: Voice, event: str, **extra: Any) -> None:
    from core.events import send_user_event

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
    from speech.engines.errors import EngineError, EngineUnavailable
    from core.engines import get_registry

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


# -------------------------------------------------------------------- synthesis


def _builtin_by_ref(ref: str) -> Voice | None:
    from speech.engines.registry import KNOWN_ENGINES

    engine, sep, key = ref.partition(":")
    voices = Voice.objects.filter(is_builtin=True).defer("conditioning")
    if sep and engine.lower() in KNOWN_ENGINES:
        voices = voices.filter(engine=engine.lower(), builtin_key__iexact=key.strip())
    else:
        voices = voices.filter(builtin_key__iexact=ref)
    # Ready voices first, then the default engine's.
    matches = sorted(voices, key=lambda v: (v.status != Voice.Status.READY, v.engine != settings.TTS_DEFAULT_ENGINE))
    return matches[0] if matches else None


def _ensure_usable(voice: Voice) -> None:
    from core.engines import get_registry

    details = {"voice": str(voice.pk), "status": voice.status, "engine": voice.engine}
    if voice.is_builtin:
        reason = get_registry().reason(voice.engine)
        if reason is not None:
            raise Conflict(
                f"The voice {voice.name!r} needs the {voice.engine} engine, which is not available here: {reason}",
                details=details,
            )
        if voice.status != Voice.Status.READY:
            raise Conflict(voice.status_message or f"The voice {voice.name!r} is not available.", details=details)
        return
    if voice.status == Voice.Status.READY:
        engine = voice.conditioning_engine or voice.engine
        reason = get_registry().reason(engine)
        if reason is not None:
            raise Conflict(
                f"The voice {voice.name!r} needs the {engine} engine, which is not available here: {reason}",
                details=details,
            )
        return
    if voice.status == Voice.Status.PENDING_ENGINE:
        info = cloning_engine_info()
        message = (
            info.missing_message
            if not info.available
            else f"The voice {voice.name!r} is waiting for the {info.name} engine to prepare it; try again shortly."
        )
        raise Conflict(message, details={**details, "engine": info.name})
    if voice.status == Voice.Status.PROCESSING:
        raise Conflict(
            f"The voice {voice.name!r} is still being prepared from its samples; try again when its status is ready.",
            details=details,
        )
    raise Conflict(
        f"The voice {voice.name!r} could not be prepared: {voice.status_message or 'unknown error'}. "
        "Upload new samples or delete it.",
        details=details,
    )


class VoiceNotFound(ApiError, Http404):
    """404 `voice_not_found`: the message names the voice asked for and lists the voices
    the caller can use (README "Errors"). Also an Http404, so code that treats any
    unknown voice as "not found" keeps doing so."""

    status_code = 404
    code = "voice_not_found"


# A typo'd name lists the usable voices; a user with very many keeps the message short.
_MAX_LISTED_VOICES = 25


def voices_usable_names(*, user: Any) -> list[str]:
    """Names a synthesis request can use right now: ready built-in voices whose engine
    runs here, then the user's own ready voices (README "Errors")."""
    from core.engines import get_registry

    registry = get_registry()
    names: list[str] = []
    builtins = Voice.objects.filter(is_builtin=True, status=Voice.Status.READY).defer("conditioning")
    for voice in builtins.order_by("builtin_key", "engine"):
        if registry.reason(voice.engine) is None and voice.builtin_key not in names:
            names.append(voice.builtin_key)
    own = Voice.objects.owned_by(user).filter(status=Voice.Status.READY).defer("conditioning").order_by("name")
    names.extend(voice.name for voice in own if voice.name not in names)
    return names


def voice_not_found(*, user: Any, ref: str, extra_names: Sequence[str] = ()) -> VoiceNotFound:
    """The error for a voice reference that matches nothing the user may use, naming it,
    suggesting the closest usable name and listing them all. `extra_names` are further
    names the caller's API accepts (the OpenAI route's aliases)."""
    import difflib

    available = [*voices_usable_names(user=user), *[n for n in extra_names]]
    available = list(dict.fromkeys(available))
    shown = available[:_MAX_LISTED_VOICES]
    listing = ", ".join(shown) + (f" and {len(available) - len(shown)} more" if len(available) > len(shown) else "")
    if not ref:
        message = "No voice was given."
    else:
        try:
            uuid.UUID(ref)
            message = f"There is no voice with id {ref!r} among the built-in voices and yours."
        except ValueError:
            message = f"There is no voice named {ref!r}."
            close = difflib.get_close_matches(ref.lower(), [n.lower() for n in available], n=1, cutoff=0.6)
            if close:
                suggestion = next(n for n in available if n.lower() == close[0])
                message += f" Did you mean {suggestion!r}?"
    message += f" Voices you can use: {listing}." if available else " You have no usable voice yet: clone one first."
    return VoiceNotFound(message, details={"voice": [message], "available_voices": available})


def voice_resolve_for_synthesis(*, user: Any, ref: str) -> Voice:
    """The voice a synthesis request names: a voice id (built-in or the user's own),
    the name of one of the user's own voices (case-insensitive), or a built-in voice
    name (`joe`, or `engine:name`). VoiceNotFound (404 `voice_not_found`, also an
    Http404) for an unknown or another user's voice, listing the usable ones;
    Conflict (409) when the voice cannot speak now (a clone not ready yet, or its
    engine missing here), with a message saying why."""
    ref = str(ref or "").strip()
    if not ref:
        builtin_voices_sync()
        raise voice_not_found(user=user, ref=ref)
    voice: Voice | None = None
    try:
        voice_id = uuid.UUID(ref)
    except ValueError:
        voice_id = None
    if voice_id is not None:
        voice = Voice.objects.visible_to(user).filter(pk=voice_id).first()
    else:
        voice = Voice.objects.owned_by(user).filter(name__iexact=ref).first()
        if voice is None:
            voice = _builtin_by_ref(ref)
            if voice is None:
                builtin_voices_sync()
                voice = _builtin_by_ref(ref)
    if voice is None:
        builtin_voices_sync()
        raise voice_not_found(user=user, ref=ref)
    _ensure_usable(voice)
    return voice
