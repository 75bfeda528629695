"""What a person's data export holds (docs/privacy.md, "Export"): everything Speaker keeps
of the account, as JSON documents and the audio files they name. Reads only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core import media
from productions.models import Production
from synthesis.models import SynthesisJob, UsageRecord
from synthesis.serializers import JobSerializer
from voices.models import CloningAttestation, ConsentRecord, Voice, VoiceConsent

README = """Your data from Speaker
======================

profile.json          your account and its API keys (names, prefixes, scopes; never a secret)
voices.json           your cloned voices and their samples (audio in voices/<voice id>/)
consent.json          the consent records of your uploads, your cloning attestations and
                      your consent recordings (audio in consents/)
history.json          every generation in your history{audio_note}
productions.json      your long-form productions: titles, chapters, settings, status
usage.json            what each generation cost (characters, words, seconds of audio)

Stored conditioning (what the engine computed from your samples) is not included: it is
an engine's internal representation, remade from the samples.
"""


@dataclass(frozen=True)
class ExportFile:
    """An audio file to copy into the zip under `name`."""

    name: str
    path: Path


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def profile_document(user: Any) -> dict[str, Any]:
    return {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "date_joined": _iso(user.date_joined),
        "last_login": _iso(user.last_login),
        "monthly_character_quota": user.monthly_character_quota,
        "max_active_jobs": user.max_active_jobs,
        "api_keys": [
            {
                "name": key.name,
                "prefix": key.prefix,
                "scopes": key.scopes,
                "created_at": _iso(key.created_at),
                "expires_at": _iso(key.expires_at),
                "revoked_at": _iso(key.revoked_at),
                "last_used_at": _iso(key.last_used_at),
            }
            for key in user.api_keys.order_by("created_at")
        ],
    }


def voices_document(user: Any) -> tuple[list[dict[str, Any]], list[ExportFile]]:
    voices, files = [], []
    for voice in Voice.objects.owned_by(user).defer("conditioning").prefetch_related("samples"):
        samples = []
        for sample in voice.samples.all():
            name = f"voices/{voice.pk}/{sample.pk}.wav"
            samples.append(
                {
                    "id": str(sample.pk),
                    "file": name,
                    "emotion": sample.emotion,
                    "duration_seconds": sample.duration_seconds,
                    "speech_seconds": sample.speech_seconds,
                    "sample_rate": sample.sample_rate,
                    "sha256_as_uploaded": sample.sha256,
                    "original_format": sample.original_format,
                    "original_name": sample.original_name,
                    "created_at": _iso(sample.created_at),
                    "consent_record": str(sample.consent_id),
                }
            )
            files.append(ExportFile(name=name, path=sample.path))
        voices.append(
            {
                "id": str(voice.pk),
                "name": voice.name,
                "description": voice.description,
                "language": voice.language,
                "languages": voice.languages,
                "engine": voice.engine,
                "status": voice.status,
                "created_at": _iso(voice.created_at),
                "samples": samples,
            }
        )
    return voices, files


def consent_document(user: Any) -> tuple[dict[str, Any], list[ExportFile]]:
    records = [
        {
            "id": str(record.pk),
            "voice_id": str(record.voice_id) if record.voice_id else None,
            "voice_name": record.voice_name,
            "attested_at": _iso(record.attested_at),
            "ip": record.ip,
            "user_agent": record.user_agent,
            "api_key_prefix": record.api_key_prefix,
            "statement": record.statement,
            "sample_sha256": record.sample_sha256,
            "attestation": str(record.attestation_id) if record.attestation_id else None,
            "voice_consent": str(record.voice_consent_id) if record.voice_consent_id else None,
            "voice_consent_sha256": record.voice_consent_sha256,
        }
        for record in ConsentRecord.objects.filter(user=user).order_by("attested_at")
    ]
    attestations = [
        {
            "id": str(item.pk),
            "accepted_at": _iso(item.accepted_at),
            "revoked_at": _iso(item.revoked_at),
            "via": item.via,
            "ip": item.ip,
            "user_agent": item.user_agent,
            "statement": item.statement,
        }
        for item in CloningAttestation.objects.filter(user=user).order_by("accepted_at")
    ]
    recordings, files = [], []
    for consent in VoiceConsent.objects.filter(owner=user).order_by("created_at"):
        name = f"consents/{consent.pk}.wav"
        recordings.append(
            {
                "id": str(consent.pk),
                "name": consent.name,
                "language": consent.language,
                "file": name,
                "duration_seconds": consent.duration_seconds,
                "sha256_as_uploaded": consent.sha256,
                "original_name": consent.original_name,
                "created_at": _iso(consent.created_at),
                "ip": consent.ip,
            }
        )
        files.append(ExportFile(name=name, path=consent.path))
    return {"consent_records": records, "cloning_attestations": attestations, "consent_recordings": recordings}, files


def history_document(user: Any, *, include_audio: bool) -> tuple[list[dict[str, Any]], list[ExportFile]]:
    jobs, files = [], []
    history = SynthesisJob.objects.filter(owner=user).exclude(mode=SynthesisJob.Mode.SEGMENT).order_by("queued_at")
    for job in history.iterator(chunk_size=500):
        row = dict(JobSerializer(job).data)
        row.pop("urls", None)
        row["audio_file"] = None
        if include_audio and job.status == SynthesisJob.Status.COMPLETED and job.audio_file and not job.audio_expired:
            try:
                path = media.absolute(job.audio_file)
            except ValueError:
                path = None
            if path is not None and path.is_file():
                row["audio_file"] = f"audio/{job.pk}.wav"
                files.append(ExportFile(name=row["audio_file"], path=path))
        jobs.append(row)
    return jobs, files


def productions_document(user: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": str(production.pk),
            "title": production.title,
            "voice": production.voice_name,
            "language": production.language,
            "params": production.params,
            "status": production.status,
            "characters": production.character_count,
            "words": production.word_count,
            "segments": production.segments_total,
            "audio_duration": production.audio_duration,
            "created_at": _iso(production.created_at),
            "finished_at": _iso(production.finished_at),
            "chapters": [{"index": c.index, "title": c.title} for c in production.chapters.all()],
        }
        for production in Production.objects.filter(owner=user).prefetch_related("chapters").order_by("created_at")
    ]


def usage_document(user: Any) -> list[dict[str, Any]]:
    return [
        {
            "job_id": str(record.job_id),
            "created_at": _iso(record.created_at),
            "api_key_prefix": record.api_key_prefix,
            "voice": record.voice_name,
            "engine": record.engine,
            "language": record.language,
            "succeeded": record.succeeded,
            "characters": record.characters,
            "words": record.words,
            "audio_seconds": record.audio_seconds,
        }
        for record in UsageRecord.objects.filter(user=user).order_by("created_at").iterator(chunk_size=1000)
    ]


def export_contents(user: Any, *, include_audio: bool) -> Iterator[tuple[str, Any]]:
    """(name in the zip, JSON-able document or ExportFile) for everything exported."""
    audio_note = " (audio in audio/)" if include_audio else " (audio not included: ask for it when exporting)"
    yield "README.txt", README.format(audio_note=audio_note)
    yield "profile.json", profile_document(user)
    voices, sample_files = voices_document(user)
    yield "voices.json", voices
    consent, consent_files = consent_document(user)
    yield "consent.json", consent
    history, audio_files = history_document(user, include_audio=include_audio)
    yield "history.json", history
    yield "productions.json", productions_document(user)
    yield "usage.json", usage_document(user)
    for item in (*sample_files, *consent_files, *audio_files):
        yield item.name, item
