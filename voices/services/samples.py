"""Sample intake: files and rows move together.

An upload is copied (size-capped) into MEDIA_ROOT, decoded and checked there, normalised
into a temporary file next to its final place, and only then, inside one transaction
with its rows, renamed into place. Any error removes every file it made, so a rejected
upload leaves no file and no row. Deleted samples' and voices' files are removed after
the deletion commits (voices.signals, so that admin deletions and cascades from a
deleted user clean up too). Where the files live is core.media's business.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile

from core import media
from core.context import current
from core.errors import ApiError, Conflict
from monitoring.services import audit_record
from speech.text import DEFAULT_EMOTION, EMOTIONS
from voices import audio_validation
from voices.models import CONSENT_STATEMENT, CloningAttestation, ConsentRecord, Voice, VoiceConsent, VoiceSample


@dataclass
class PreparedSample:
    """An upload that passed every check: its normalised wav waits at `temp_path`."""

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


def samples_require(uploads: Sequence[UploadedFile]) -> None:
    if not uploads:
        raise ApiError("At least one sample is required.", details={"samples": ["upload at least one audio file"]})


def samples_emotions(count: int, emotions: Sequence[str] | None) -> list[str]:
    """One emotion label per sample (all `neutral` when none are given). Labels are taken
    exactly as given, as the API schema's enum spells them (no case folding, no blanks)."""
    labels = list(emotions or [])
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


def samples_prepare(voice_id: uuid.UUID, uploads: Sequence[UploadedFile], emotions: list[str]) -> list[PreparedSample]:
    """Copy, validate and normalise every upload. Leaves only the normalised
    temporary files; on any error removes everything it made and raises."""
    incoming = media.voice_incoming_dir()
    incoming.mkdir(parents=True, exist_ok=True)
    _remove_stale_incoming(incoming)
    folder = media.voice_dir(voice_id)
    folder_existed = folder.is_dir()
    folder.mkdir(parents=True, exist_ok=True)
    prepared: list[PreparedSample] = []
    try:
        for index, upload in enumerate(uploads):
            display = _safe_display_name(upload)
            # A server-made name without a meaningful extension: the format is decided by
            # the content alone (libsndfile never falls back to guessing from a name).
            raw = media.voice_incoming_file()
            try:
                sha256, size = audio_validation.copy_upload(upload, raw)
                validated = audio_validation.validate_sample(raw)
            except ApiError as exc:
                exc.details.setdefault("sample_index", index)
                if display:
                    exc.details.setdefault("filename", display)
                raise
            finally:
                media.unlink_quietly(raw)
            sample_id = uuid.uuid4()
            temp = media.voice_sample_temp_path(voice_id, sample_id)
            prepared.append(
                PreparedSample(
                    sample_id=sample_id,
                    temp_path=temp,
                    final_path=media.voice_sample_path(voice_id, sample_id),
                    relative=media.voice_sample_relative(voice_id, sample_id),
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
            media.unlink_quietly(item.temp_path)
        if not folder_existed:
            media.remove_dir_if_empty(folder)
        raise
    return prepared


def samples_discard(prepared: Sequence[PreparedSample], *, voice_id: uuid.UUID, folder_existed: bool) -> None:
    """Undo `samples_prepare` (and the renames of `samples_store`) after a failure."""
    for item in prepared:
        media.unlink_quietly(item.temp_path)
        media.unlink_quietly(item.final_path)
    if not folder_existed:
        media.remove_dir_if_empty(media.voice_dir(voice_id))


def samples_check_duplicates(prepared: Sequence[PreparedSample], existing: set[str]) -> None:
    """409 when a sample is already in the voice (`existing` hashes) or sent twice."""
    seen = set(existing)
    for index, item in enumerate(prepared):
        if item.sha256 in seen:
            raise Conflict(
                "This sample was already uploaded to this voice.",
                details={"sample_index": index, "sha256": item.sha256},
            )
        seen.add(item.sha256)


def samples_store(*, voice: Voice, prepared: Sequence[PreparedSample], consent: ConsentRecord) -> list[VoiceSample]:
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


def consent_require(consent: bool) -> None:
    if consent is not True:
        raise ApiError(
            "Cloning a voice needs the speaker's consent: send consent=true to attest that the person "
            "whose voice is in the samples agreed to have it recorded and cloned.",
            details={"consent": [f"consent=true is required. {CONSENT_STATEMENT}"]},
        )


def consent_witness(*, user: Any, voice: Voice) -> dict[str, Any]:
    """Who made a voice and from where, as every consent record keeps it: the account,
    and the client address, user agent and API key of the request (core.context; empty
    outside a request)."""
    ctx = current()
    return {
        "user": user,
        "username": getattr(user, "username", "") or "",
        "voice": voice,
        "voice_name": voice.name,
        "ip": ctx.client_ip,
        "user_agent": ctx.user_agent,
        "api_key_prefix": ctx.api_key_prefix,
    }


def consent_attest(
    *,
    user: Any,
    voice: Voice,
    prepared: Sequence[PreparedSample],
    attestation: CloningAttestation | None = None,
    voice_consent: VoiceConsent | None = None,
) -> ConsentRecord:
    """The evidence of the attestation: who, which audio, and from where — the client
    address, user agent and API key come from the request context (core.context;
    empty outside a request). `attestation`: the account's standing one, when the
    upload came through an API without a consent field; `voice_consent`: the recorded
    consent the voice is cloned under (its hash is copied, kept if the recording goes)."""
    record = ConsentRecord.objects.create(
        **consent_witness(user=user, voice=voice),
        statement=CONSENT_STATEMENT,
        sample_sha256=[item.sha256 for item in prepared],
        attestation=attestation,
        voice_consent=voice_consent,
        voice_consent_sha256=voice_consent.sha256 if voice_consent is not None else "",
    )
    details: dict[str, Any] = {
        "voice_id": str(voice.pk),
        "voice_name": voice.name,
        "sample_sha256": record.sample_sha256,
    }
    if attestation is not None:
        details["attestation_id"] = str(attestation.pk)
    if voice_consent is not None:
        details["voice_consent_id"] = str(voice_consent.pk)
        details["voice_consent_sha256"] = voice_consent.sha256
    audit_record(action="consent.attested", user=user, target_type="consent", target_id=str(record.pk), details=details)
    return record
