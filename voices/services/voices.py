"""Cloned voices: create (from consented samples), rename, delete; add and delete samples.

Each takes domain arguments only; who did it and from where (for the consent record
and the audit log) come from the request context (core.context). The file side of
samples is voices.services.samples; a change of samples queues the voice for
conditioning (voices.services.conditioning).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import ApiError, Conflict
from monitoring.services import audit_record
from voices.models import CloningAttestation, Voice, VoiceConsent, VoiceSample
from voices.selectors import cloning_engine_info
from voices.services.conditioning import voice_mark_samples_changed
from voices.services.samples import (
    consent_attest,
    consent_require,
    samples_check_duplicates,
    samples_discard,
    samples_emotions,
    samples_prepare,
    samples_require,
    samples_store,
)
from voices.services.voice_settings import voice_settings_check


def voice_name_clean(name: str) -> str:
    cleaned = " ".join(str(name or "").split())
    if not cleaned:
        raise ApiError("A voice needs a name.", details={"name": ["this field may not be blank"]})
    return cleaned[:100]


def clone_language_check(language: str) -> str:
    info = cloning_engine_info()
    code = str(language or "").strip().lower().replace("_", "-")
    if code not in info.languages:
        raise ApiError(
            f"Cloned voices speak the {info.name} engine's languages; {language!r} is not one of them.",
            details={"language": [f"use one of {', '.join(info.languages)}"]},
        )
    return code


def voice_name_check_free(*, user: Any, name: str, exclude: uuid.UUID | None = None) -> None:
    clash = Voice.objects.owned_by(user).filter(name__iexact=name)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        raise Conflict(f"You already have a voice named {name!r}.", details={"name": ["voice names must be unique"]})


def _builtin_immutable() -> ApiError:
    return ApiError("Built-in voices cannot be changed or deleted.", code="permission_denied", status_code=403)


def voice_create(
    *,
    user: Any,
    name: str,
    language: str,
    samples: Sequence[UploadedFile],
    consent: bool,
    description: str = "",
    emotions: Sequence[str] | None = None,
    attestation: CloningAttestation | None = None,
    voice_consent: VoiceConsent | None = None,
) -> Voice:
    """Create a cloned voice from consented samples. The voice comes back
    `processing` (the worker prepares it) or `pending_engine` (no cloning engine here).
    `attestation`: the account's standing attestation the consent rests on, for APIs
    without a consent field (voices.services.attestation); recorded with the samples.
    `voice_consent`: the recorded consent it is cloned under (voices.services.consents),
    named in its ConsentRecord; 404 if it is deleted meanwhile."""
    consent_require(consent)
    name = voice_name_clean(name)
    language = clone_language_check(language)
    samples_require(samples)
    if len(samples) > settings.VOICE_MAX_SAMPLES:
        raise ApiError(
            f"A voice may have at most {settings.VOICE_MAX_SAMPLES} samples; {len(samples)} were sent.",
            details={"samples": [f"at most {settings.VOICE_MAX_SAMPLES} samples"]},
        )
    labels = samples_emotions(len(samples), emotions)
    voice_name_check_free(user=user, name=name)

    voice_id = uuid.uuid4()
    prepared = samples_prepare(voice_id, samples, labels)
    try:
        samples_check_duplicates(prepared, set())
        info = cloning_engine_info()
        with transaction.atomic():
            if (
                voice_consent is not None
                and not VoiceConsent.objects.select_for_update().filter(pk=voice_consent.pk).exists()
            ):
                raise ApiError("The consent recording no longer exists.", code="not_found", status_code=404)
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
            consent_record = consent_attest(
                user=user, voice=voice, prepared=prepared, attestation=attestation, voice_consent=voice_consent
            )
            samples_store(voice=voice, prepared=prepared, consent=consent_record)
            voice_mark_samples_changed(voice)
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
        samples_discard(prepared, voice_id=voice_id, folder_existed=False)
        raise Conflict(
            f"You already have a voice named {name!r}.", details={"name": ["voice names must be unique"]}
        ) from exc
    except BaseException:
        samples_discard(prepared, voice_id=voice_id, folder_existed=False)
        raise
    voice.refresh_from_db()
    return voice


def voice_samples_add(
    *,
    voice: Voice,
    samples: Sequence[UploadedFile],
    consent: bool,
    emotions: Sequence[str] | None = None,
) -> list[VoiceSample]:
    """Add consented samples to a cloned voice; its conditioning is recomputed.
    409 when the voice would exceed VOICE_MAX_SAMPLES or a sample is already there."""
    if voice.is_builtin:
        raise _builtin_immutable()
    if voice.blended_from:
        raise Conflict(
            "A blended voice is made from its sources' conditioning, not from samples: blend a new voice instead.",
            details={"voice": ["a blended voice takes no samples"]},
        )
    consent_require(consent)
    samples_require(samples)
    labels = samples_emotions(len(samples), emotions)

    def check_room(existing: int) -> None:
        if existing + len(samples) > settings.VOICE_MAX_SAMPLES:
            raise Conflict(
                f"A voice may have at most {settings.VOICE_MAX_SAMPLES} samples; this one has {existing} "
                f"and {len(samples)} more were sent.",
                details={"max_samples": settings.VOICE_MAX_SAMPLES, "existing": existing},
            )

    check_room(voice.samples.count())  # before the expensive part
    prepared = samples_prepare(voice.pk, samples, labels)
    try:
        with transaction.atomic():
            # Lock the voice: concurrent uploads must not both pass the cap.
            locked = Voice.objects.select_for_update().defer("conditioning").get(pk=voice.pk)
            existing = set(VoiceSample.objects.filter(voice=locked).values_list("sha256", flat=True))
            check_room(len(existing))
            samples_check_duplicates(prepared, existing)
            consent_record = consent_attest(user=locked.owner, voice=locked, prepared=prepared)
            rows = samples_store(voice=locked, prepared=prepared, consent=consent_record)
            voice_mark_samples_changed(locked)
    except BaseException:
        samples_discard(prepared, voice_id=voice.pk, folder_existed=True)
        raise
    voice.refresh_from_db()
    return rows


def voice_update(
    *,
    voice: Voice,
    name: str | None = None,
    description: str | None = None,
    language: str | None = None,
    settings: Mapping[str, Any] | None = None,
) -> Voice:
    """Rename, describe or change the primary language of a cloned voice, or change its
    default generation parameters (`settings`, a merge patch: null removes a key;
    voices.services.voice_settings). Everything is checked before anything is stored."""
    if voice.is_builtin:
        raise _builtin_immutable()
    changes: dict[str, Any] = {}
    if settings is not None:
        if not isinstance(settings, Mapping):
            raise ApiError("settings must be an object.", details={"settings": ["must be an object"]})
        changes["settings"] = voice_settings_check({**(voice.settings or {}), **dict(settings)})
    if name is not None:
        changes["name"] = voice_name_clean(name)
        voice_name_check_free(user=voice.owner, name=changes["name"], exclude=voice.pk)
    if description is not None:
        changes["description"] = str(description)[:1000]
    if language is not None:
        changes["language"] = clone_language_check(language)
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
        raise Conflict(
            "You already have a voice with that name.", details={"name": ["voice names must be unique"]}
        ) from exc
    voice.refresh_from_db()
    return voice


def voice_delete(*, voice: Voice) -> None:
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


def voice_sample_delete(*, sample: VoiceSample) -> None:
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
        voice_mark_samples_changed(locked)  # voices.signals removes the file once this commits
