"""Recorded consents: the speaker saying, on a recording, that they agree to their voice
being cloned (OpenAI's /v1/audio/voice_consents), and voices cloned under one.

A recording goes through the same intake as a voice sample (voices.audio_validation:
size cap while copying, format by content, duration and speech checks), is stored as a
normalised WAV with its hash, language, uploader and origin, and is audited. A voice
cloned under it is made by voice_create, whose ConsentRecord names the recording; the
recording cannot be deleted while such a voice exists (409).
"""

from __future__ import annotations

import os
import re
import uuid
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from core import media
from core.context import current
from core.errors import ApiError, Conflict
from monitoring.services import audit_record
from voices import audio_validation
from voices.models import ConsentRecord, Voice, VoiceConsent
from voices.selectors import cloning_engine_info
from voices.services.voices import voice_create

# A BCP 47 tag in its common shape: a 2-3 letter language, then subtags (script, region,
# variants) of 1-8 letters or digits.
BCP47_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"  # stated in the OpenAI consent schema
_BCP47 = re.compile(BCP47_PATTERN)


def _clean_name(name: str) -> str:
    cleaned = " ".join(str(name or "").split())
    if not cleaned:
        raise ApiError("A consent recording needs a name.", details={"name": ["this field may not be blank"]})
    return cleaned[:100]


def _clean_language(language: str) -> str:
    tag = str(language or "").strip()
    if not _BCP47.match(tag) or len(tag) > 35:
        raise ApiError(
            f"language must be a BCP 47 tag such as en-US; {language!r} is not one.",
            details={"language": ["a BCP 47 language tag, e.g. en-US"]},
        )
    return tag


def voice_consent_create(*, user: Any, name: str, language: str, recording: UploadedFile | None) -> VoiceConsent:
    """Validate and store a consent recording. Every check runs before anything is kept:
    a recording that is not audio (415), too large (413), too short or too long, or
    mostly silent (422) leaves no file and no row."""
    name = _clean_name(name)
    language = _clean_language(language)
    if recording is None:
        raise ApiError("A consent recording is required.", details={"recording": ["upload an audio file"]})
    incoming = media.voice_incoming_dir()
    incoming.mkdir(parents=True, exist_ok=True)
    raw = media.voice_incoming_file()
    try:
        sha256, size = audio_validation.copy_upload(recording, raw)
        validated = audio_validation.validate_sample(raw)
    except ApiError as exc:
        exc.details.setdefault("param", "recording")
        raise
    finally:
        media.unlink_quietly(raw)
    consent_id = uuid.uuid4()
    final, temp = media.voice_consent_path(consent_id), media.voice_consent_temp_path(consent_id)
    final.parent.mkdir(parents=True, exist_ok=True)
    ctx = current()
    display = "".join(ch for ch in os.path.basename(str(getattr(recording, "name", "") or "")) if ch.isprintable())
    try:
        audio_validation.write_wav(validated, temp)
        with transaction.atomic():
            consent = VoiceConsent.objects.create(
                id=consent_id,
                owner=user,
                name=name,
                language=language,
                file=media.voice_consent_relative(consent_id),
                duration_seconds=round(validated.duration_seconds, 3),
                speech_seconds=round(validated.speech_seconds, 3),
                sample_rate=validated.sample_rate,
                sha256=sha256,
                original_format=validated.original_format,
                original_name=display[:255],
                size_bytes=size,
                username=getattr(user, "username", "") or "",
                ip=ctx.client_ip,
                user_agent=ctx.user_agent,
                api_key_prefix=ctx.api_key_prefix,
            )
            audit_record(
                action="voice_consent.uploaded",
                user=user,
                target_type="voice_consent",
                target_id=str(consent_id),
                details={
                    "name": name,
                    "language": language,
                    "sha256": sha256,
                    "duration_seconds": consent.duration_seconds,
                    "original_format": validated.original_format,
                    "size_bytes": size,
                },
            )
            os.replace(temp, final)  # same folder: atomic
    except BaseException:
        media.unlink_quietly(temp)
        media.unlink_quietly(final)
        raise
    return consent


def voice_consent_rename(*, consent: VoiceConsent, name: str) -> VoiceConsent:
    consent.name = _clean_name(name)
    consent.save(update_fields=["name"])
    audit_record(
        action="voice_consent.renamed",
        user=consent.owner,
        target_type="voice_consent",
        target_id=str(consent.pk),
        details={"name": consent.name},
    )
    return consent


def voice_consent_in_use(*, consent: VoiceConsent) -> list[Voice]:
    """The voices that exist under this consent."""
    voice_ids = ConsentRecord.objects.filter(voice_consent=consent, voice__isnull=False).values("voice_id")
    return list(Voice.objects.filter(pk__in=voice_ids).order_by("name"))


def voice_consent_delete(*, consent: VoiceConsent) -> None:
    """Delete a consent recording (its file goes after the commit, voices.signals); 409
    while a voice cloned under it exists. The consent records of voices already deleted
    keep the recording's hash."""
    with transaction.atomic():
        # Locked, so that a voice being cloned under it (voice_create locks it too)
        # either finishes first and is seen here, or finds it gone.
        locked = VoiceConsent.objects.select_for_update().filter(pk=consent.pk).first()
        if locked is None:
            return
        in_use = voice_consent_in_use(consent=locked)
        if in_use:
            raise Conflict(
                f"This consent recording is used by {len(in_use)} voice(s); delete them first.",
                details={"voice_ids": [str(voice.pk) for voice in in_use]},
            )
        audit_record(
            action="voice_consent.deleted",
            user=locked.owner,
            target_type="voice_consent",
            target_id=str(locked.pk),
            details={"name": locked.name, "sha256": locked.sha256},
        )
        locked.delete()


def _voice_language(tag: str) -> str:
    """The cloned voice's language from the consent's BCP 47 tag: the whole tag where the
    cloning engine knows it (zh-CN -> zh-cn), else its language subtag (en-US -> en)."""
    languages = cloning_engine_info().languages
    full = tag.lower()
    if full in languages:
        return full
    primary = full.split("-", 1)[0]
    if primary in languages:
        return primary
    raise ApiError(
        f"The consent recording's language {tag!r} is not one cloned voices speak here.",
        details={"consent": [f"cloned voices speak {', '.join(languages)}"]},
    )


def voice_clone_with_consent(*, user: Any, name: str, sample: UploadedFile | None, consent: VoiceConsent) -> Voice:
    """A cloned voice from one sample, under a recorded consent of the same account: the
    voice speaks the consent's language and its ConsentRecord names the recording."""
    if sample is None:
        raise ApiError("An audio sample is required.", details={"audio_sample": ["upload an audio file"]})
    try:
        return voice_create(
            user=user,
            name=name,
            language=_voice_language(consent.language),
            samples=[sample],
            consent=True,
            voice_consent=consent,
        )
    except ApiError as exc:
        if "sample_index" in exc.details:  # the sample's own checks: name the field it came in
            exc.details.setdefault("param", "audio_sample")
        raise
