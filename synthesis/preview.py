"""Voice previews: a short sample sentence in a voice, generated once and cached until the
voice changes (its samples, its conditioning or its default settings).

A preview is a job with `mode=preview`: it goes through the same queue and worker as
any generation (so XTTS stays in the worker, never the web process), is not billed and
not shown in history; the web process moves its audio into the preview cache and drops
the job row."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from accounts.models import User
from core import media
from core.errors import ServiceUnavailable
from synthesis.models import SynthesisJob
from synthesis.services import JobRequest, job_create, job_delete_files
from synthesis.stream_transport import StreamFailed, job_chunks, limiter

PREVIEW_TEXTS: dict[str, str] = {
    "en": "Hello! This is a short preview of my voice.",
    "es": "¡Hola! Esta es una breve muestra de mi voz.",
    "fr": "Bonjour ! Voici un court aperçu de ma voix.",
    "de": "Hallo! Dies ist eine kurze Hörprobe meiner Stimme.",
    "it": "Ciao! Questa è una breve anteprima della mia voce.",
    "pt": "Olá! Esta é uma breve amostra da minha voz.",
    "pl": "Cześć! To jest krótka próbka mojego głosu.",
    "tr": "Merhaba! Bu, sesimin kısa bir önizlemesidir.",
    "ru": "Привет! Это короткий образец моего голоса.",
    "nl": "Hallo! Dit is een korte voorproef van mijn stem.",
    "cs": "Ahoj! Toto je krátká ukázka mého hlasu.",
    "ar": "مرحبا! هذه معاينة قصيرة لصوتي.",
    "zh-cn": "你好！这是我声音的简短预览。",
    "ja": "こんにちは！これは私の声の短いサンプルです。",
    "hu": "Szia! Ez a hangom rövid bemutatója.",
    "ko": "안녕하세요! 제 목소리의 짧은 미리 듣기입니다.",
    "hi": "नमस्ते! यह मेरी आवाज़ का एक छोटा नमूना है।",
}


def preview_path(voice: object) -> Path:
    """Cache file for the voice as it is now (core.media.preview_path): the preview
    speaks with the voice's default settings, so they are part of its name."""
    own = getattr(voice, "settings", None) or {}
    settings_key = hashlib.sha256(json.dumps(own, sort_keys=True).encode()).hexdigest()[:12] if own else ""
    return media.preview_path(
        voice.pk,  # type: ignore[attr-defined]
        samples_version=voice.samples_version,  # type: ignore[attr-defined]
        conditioned_at=voice.conditioned_at,  # type: ignore[attr-defined]
        settings_key=settings_key,
    )


def voice_preview(*, user: User, voice: object) -> Path:
    """The path of the voice's preview audio (wav), generating it on first use."""
    target = preview_path(voice)
    if target.exists():
        return target
    language = voice.language if voice.language in PREVIEW_TEXTS else "en"  # type: ignore[attr-defined]
    limiter.acquire()
    try:
        job, _ = job_create(
            user=user,
            req=JobRequest(text=PREVIEW_TEXTS[language], voice=str(voice.pk), language=language),  # type: ignore[attr-defined]
            mode=SynthesisJob.Mode.PREVIEW,
            stream_channel=_channel(),
        )
        try:
            async_to_sync(_drain)(job)
        except StreamFailed as exc:
            raise ServiceUnavailable(f"The preview could not be generated: {exc}") from exc
    finally:
        limiter.release()
    job.refresh_from_db()
    try:
        if job.status != SynthesisJob.Status.COMPLETED:
            raise ServiceUnavailable("The preview could not be generated; try again.")
        target.parent.mkdir(parents=True, exist_ok=True)
        for old in target.parent.glob("*.wav"):  # the voice changed: older previews go
            old.unlink(missing_ok=True)
        shutil.move(str(media.absolute(job.audio_file)), target)
    finally:
        job_delete_files(job)
        job.delete()
    return target


def _channel() -> str:
    if settings.EMBEDDED_WORKER:
        return ""
    return async_to_sync(get_channel_layer().new_channel)("preview.")


async def _drain(job: SynthesisJob) -> None:
    async for _ in job_chunks(job):
        pass
    await sync_to_async(lambda: None)()
