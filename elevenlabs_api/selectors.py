"""Speaker's rows in the JSON shapes of ElevenLabs' API, as the `elevenlabs` SDK's
pydantic models read them (voices, models, history items, the subscription and user),
and the reads behind the listings (selectors: no writes here)."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet

from accounts.models import User
from core.engines import get_registry
from elevenlabs_api.requests import stability_for
from synthesis.models import SynthesisJob
from synthesis.quotas import quota_state
from synthesis.selectors import job_history
from voices.models import Voice
from voices.selectors import cloning_engine_info, voice_list
from voices.services.attestation import attestation_current

# Speaker has no per-account cap on cloned voices; ElevenLabs' field needs a number.
VOICE_LIMIT = 10_000
MAX_HISTORY_PAGE = 1000
MAX_VOICES_PAGE = 100


def _unix(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


# ------------------------------------------------------------------ models


def model_id_for(engine: str) -> str:
    """A Speaker engine as an ElevenLabs model id: the engine's own name."""
    return engine


def models_list() -> list[dict[str, Any]]:
    """One model per engine that runs here. Any `model_id` is accepted in requests (the
    voice decides the engine); these say what exists."""
    registry = get_registry()
    out = []
    for status in registry.status():
        if not status.available:
            continue
        out.append(
            {
                "model_id": model_id_for(status.name),
                "name": f"Speaker {status.name}",
                "description": (
                    f"Speaker's {status.name} engine" + (": voice cloning" if status.clones else ": built-in voices")
                ),
                "can_be_finetuned": False,
                "can_do_text_to_speech": True,
                "can_do_voice_conversion": False,
                "can_use_style": False,
                "can_use_speaker_boost": False,
                "serves_pro_voices": False,
                "token_cost_factor": 1.0,
                "requires_alpha_access": False,
                "max_characters_request_free_user": settings.MAX_TEXT_LENGTH,
                "max_characters_request_subscribed_user": settings.MAX_TEXT_LENGTH,
                "maximum_text_length_per_request": settings.MAX_TEXT_LENGTH,
                "languages": [{"language_id": code, "name": code} for code in status.languages],
                # Required by ElevenLabs' published ModelResponseModel: characters are
                # billed one for one, and no model is a faster tier than another.
                "model_rates": {"character_cost_multiplier": 1.0},
                "concurrency_group": "standard",
            }
        )
    return out


# ------------------------------------------------------------------ voices


# ElevenLabs' defaults (GET /v1/voices/settings/default): stability 0.5 is Speaker's
# default temperature and variability (elevenlabs_api.requests).
DEFAULT_VOICE_SETTINGS: dict[str, Any] = {
    "stability": 0.5,
    "similarity_boost": 0.75,
    "style": 0.0,
    "use_speaker_boost": True,
    "speed": 1.0,
}


def voice_settings_shape(voice: Voice) -> dict[str, Any]:
    """A voice's default settings in ElevenLabs' terms: `stability` and `speed` from the
    voice's own parameters (Voice.settings, shared with Speaker's API), the knobs no
    engine has from what an ElevenLabs client saved, ElevenLabs' defaults for the rest."""
    own = voice.settings or {}
    shape = {**DEFAULT_VOICE_SETTINGS, **(voice.elevenlabs_settings or {})}
    if "temperature" in own:
        shape["stability"] = stability_for(own["temperature"])
    if "speed" in own:
        shape["speed"] = float(own["speed"])
    return shape


def voice_shape(voice: Voice, *, user: User) -> dict[str, Any]:
    own = not voice.is_builtin and voice.owner_id == user.pk
    samples = []
    if own:
        samples = [
            {
                "sample_id": str(sample.pk),
                "file_name": sample.original_name or f"{sample.pk}.wav",
                "mime_type": "audio/wav",
                "size_bytes": sample.size_bytes,
                "hash": sample.sha256,
                "duration_secs": sample.duration_seconds,
            }
            for sample in voice.samples.all()
        ]
    return {
        "voice_id": str(voice.pk),
        "name": voice.name,
        "samples": samples or None,
        "category": "premade" if voice.is_builtin else "cloned",
        "labels": {"language": voice.language, "engine": voice.engine, "status": voice.status},
        "description": voice.description or None,
        "preview_url": None,  # Speaker's previews need the caller's key: /api/v1/voices/{id}/preview
        "available_for_tiers": [],
        "settings": voice_settings_shape(voice),
        "high_quality_base_model_ids": [model_id_for(voice.engine)],
        "is_owner": own,
        "is_legacy": False,
        "is_mixed": False,
        "created_at_unix": _unix(voice.created_at),
    }


def voices_all(*, user: User) -> QuerySet[Voice]:
    """Built-in voices of the engines that run here, and all of the user's own."""
    registry = get_registry()
    running = [status.name for status in registry.status() if status.available]
    return voice_list(user=user).filter(Q(is_builtin=False) | Q(engine__in=running))


@dataclass(frozen=True)
class VoiceSearch:
    search: str = ""
    page_size: int = 10
    offset: int = 0
    voice_type: str = ""
    category: str = ""
    sort: str = ""
    sort_direction: str = ""
    voice_ids: tuple[str, ...] = ()


# Far past any account's voices, well inside every database's integers.
MAX_PAGE_OFFSET = 2**31 - 1


def page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def page_offset(token: str) -> int:
    """The offset a `next_page_token` stands for; ValueError for a token not made here."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("next_page_token is not one this server gave out") from exc
    prefix, _, number = text.partition(":")
    # ASCII digits only ("²".isdigit() is true, int("²") is not), and no offset past
    # MAX_PAGE_OFFSET: 2**63 overflowed SQLite's integers and PostgreSQL's bigint.
    if prefix != "offset" or not (number.isascii() and number.isdigit()) or len(number) > len(str(MAX_PAGE_OFFSET)):
        raise ValueError("next_page_token is not one this server gave out")
    offset = int(number)
    if offset > MAX_PAGE_OFFSET:
        raise ValueError("next_page_token is not one this server gave out")
    return offset


def voices_search(*, user: User, query: VoiceSearch) -> dict[str, Any]:
    voices = voices_all(user=user)
    if query.search:
        voices = voices.filter(Q(name__icontains=query.search) | Q(description__icontains=query.search))
    if query.voice_type in ("personal", "non-default", "saved") or query.category == "cloned":
        voices = voices.filter(is_builtin=False)
    elif query.voice_type == "default" or query.category == "premade":
        voices = voices.filter(is_builtin=True)
    elif query.voice_type or query.category:
        voices = voices.none()  # ElevenLabs kinds Speaker has none of (community, generated, …)
    if query.voice_ids:
        voices = voices.filter(pk__in=[v for v in query.voice_ids if is_uuid(v)])
    if query.sort in ("name", "created_at_unix"):
        field = "name" if query.sort == "name" else "created_at"
        voices = voices.order_by(f"-{field}" if query.sort_direction == "desc" else field, "id")
    total = voices.count()
    page = list(voices[query.offset : query.offset + query.page_size])
    has_more = query.offset + len(page) < total
    return {
        "voices": [voice_shape(voice, user=user) for voice in page],
        "has_more": has_more,
        "total_count": total,
        "next_page_token": page_token(query.offset + len(page)) if has_more else None,
    }


def is_uuid(value: str) -> bool:
    return _uuid_or_none(value) is not None


# ------------------------------------------------------------------ history


def history_item_shape(job: SynthesisJob) -> dict[str, Any]:
    state = (
        "created"
        if job.status == SynthesisJob.Status.COMPLETED
        else ("processing" if job.status in SynthesisJob.ACTIVE else job.status)
    )
    return {
        "history_item_id": str(job.pk),
        "request_id": str(job.pk),
        "voice_id": str(job.voice_id) if job.voice_id else None,
        "model_id": model_id_for(job.engine),
        "voice_name": job.voice_name,
        "voice_category": "premade" if job.voice_builtin else "cloned",
        "text": job.text,
        "date_unix": _unix(job.queued_at) or 0,
        # This item's own characters (from 0 to its count), not the account's running total.
        "character_count_change_from": 0,
        "character_count_change_to": job.character_count,
        "content_type": "audio/mpeg",
        "state": state,
        "settings": dict(job.params or {}),
        "source": "TTS",
        "output_format": "mp3_44100_128",
    }


@dataclass(frozen=True)
class HistoryQuery:
    page_size: int = 100
    start_after: str | None = None
    voice_id: str | None = None
    model_id: str | None = None
    before: datetime | None = None
    after: datetime | None = None
    ascending: bool = False
    search: str = ""


def history_page(*, user: User, query: HistoryQuery) -> dict[str, Any]:
    jobs = job_history(user=user).order_by("queued_at" if query.ascending else "-queued_at", "id")
    if query.voice_id:
        jobs = jobs.filter(voice_id=query.voice_id) if _uuid_or_none(query.voice_id) else jobs.none()
    if query.model_id:
        jobs = jobs.filter(engine=query.model_id)
    if query.before:
        jobs = jobs.filter(queued_at__lt=query.before)
    if query.after:
        jobs = jobs.filter(queued_at__gt=query.after)
    if query.search:
        jobs = jobs.filter(text__icontains=query.search)
    if query.start_after:
        anchor = (
            job_history(user=user).filter(pk=query.start_after).first() if _uuid_or_none(query.start_after) else None
        )
        if anchor is None:
            jobs = jobs.none()
        elif query.ascending:
            jobs = jobs.filter(Q(queued_at__gt=anchor.queued_at) | Q(queued_at=anchor.queued_at, id__gt=anchor.pk))
        else:
            jobs = jobs.filter(Q(queued_at__lt=anchor.queued_at) | Q(queued_at=anchor.queued_at, id__gt=anchor.pk))
    page = list(jobs[: query.page_size + 1])
    has_more = len(page) > query.page_size
    page = page[: query.page_size]
    return {
        "history": [history_item_shape(job) for job in page],
        "last_history_item_id": str(page[-1].pk) if page else None,
        "has_more": has_more,
    }


def _uuid_or_none(value: str) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def history_job(*, user: User, item_id: str) -> SynthesisJob | None:
    """The user's own job of that id (None for another user's or an unknown one)."""
    if _uuid_or_none(item_id) is None:
        return None
    return job_history(user=user).filter(pk=item_id).first()


# ------------------------------------------------------------------ subscription and user


def subscription_shape(*, user: User) -> dict[str, Any]:
    """Speaker's monthly character quota and usage (synthesis.quotas) as ElevenLabs'
    subscription: `character_count` is what this month used (queued work included),
    `character_limit` the quota, `next_character_count_reset_unix` when it resets."""
    state = quota_state(user=user)
    cloning = cloning_engine_info()
    return {
        "tier": "speaker",
        "character_count": state.used + state.reserved,
        "character_limit": state.limit,
        "max_character_limit_extension": 0,
        "max_credit_limit_extension": 0,
        "can_extend_character_limit": False,
        "allowed_to_extend_character_limit": False,
        "next_character_count_reset_unix": _unix(state.resets_at),
        "voice_slots_used": Voice.objects.owned_by(user).count(),
        "professional_voice_slots_used": 0,
        "professional_voice_slots_used_in_workspace": 0,
        "voice_limit": VOICE_LIMIT,
        "max_voice_add_edits": None,
        "voice_add_edit_counter": 0,
        "professional_voice_limit": 0,
        "can_extend_voice_limit": False,
        # Cloning also needs the account's attestation (403 on /v1/voices/add without it).
        "can_use_instant_voice_cloning": bool(cloning.available and attestation_current(user=user) is not None),
        "can_use_professional_voice_cloning": False,
        "currency": "usd",
        "current_overage": {"amount": "0", "currency": "usd"},
        "status": "active",
        "billing_period": "monthly_period",
        "character_refresh_period": "monthly_period",
        "open_invoices": [],
        "has_open_invoices": False,
    }


def user_shape(*, user: User) -> dict[str, Any]:
    return {
        "user_id": str(user.pk),
        "workspace_id": str(user.pk),
        "subscription": subscription_shape(user=user),
        "is_new_user": False,
        "xi_api_key": None,  # never echoed: Speaker stores only a hash of each key
        "can_use_delayed_payment_methods": False,
        "is_onboarding_completed": True,
        "is_onboarding_checklist_completed": True,
        "first_name": user.first_name or user.username,
        "is_api_key_hashed": True,
        "created_at": _unix(user.date_joined) or 0,
        "seat_type": "workspace_admin",
    }
