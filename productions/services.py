"""Long-form productions, the writes (docs/ARCHITECTURE.md, "Long-form productions"):
accept a text (split, validated, billed once), pause, resume, cancel, regenerate one
segment, delete; and move a production along when one of its segment jobs ends
(`production_segment_finished`, handed to synthesis.queue at start-up), assembling it
when the last one is done.

Every segment is a SynthesisJob (mode `segment`, priority `bulk`): the queue's claims,
leases and requeues do the scheduling; this module only creates and cancels jobs and
reads their states.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any, Mapping

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Min, Q, Sum
from django.utils import timezone

from accounts.models import APIKey, User
from core import media
from core.engines import get_registry
from core.errors import ApiError, Conflict, PayloadTooLarge, Unprocessable, UnsupportedMedia
from core.events import send_user_event
from core.wakeup import wake_worker
from monitoring.services import audit_record
from productions import assembly as assemblymod
from productions.models import Chapter, Production, ProductionSegment
from productions.parsing import parse
from speech import text as textmod
from speech.engines.errors import EngineUnavailable
from speech.engines.params import SynthesisParams
from synthesis.models import SynthesisJob, UsageRecord
from synthesis.quotas import quota_check_job, quota_lock_user
from synthesis.services import voice_ref
from voices.models import Voice
from voices.selectors import voice_resolve_for_synthesis

logger = logging.getLogger("speaker.productions")

Status = Production.Status
JobStatus = SynthesisJob.Status


# --------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class Progress:
    total: int
    done: int
    failed: int
    active: int  # queued or running
    characters_done: int
    characters_total: int
    eta_seconds: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "segments_total": self.total,
            "segments_done": self.done,
            "segments_failed": self.failed,
            "segments_active": self.active,
            "progress": round(self.done / self.total, 4) if self.total else 0.0,
            "eta_seconds": None if self.eta_seconds is None else round(self.eta_seconds, 1),
        }


def production_progress(*, production: Production) -> Progress:
    """Segments done / total and an estimate of the time left: the wall-clock pace of
    the segments spoken so far (however many workers share them), over the characters
    left."""
    counts = ProductionSegment.objects.filter(production=production).aggregate(
        total=Count("id"),
        done=Count("id", filter=Q(job__status=JobStatus.COMPLETED)),
        failed=Count("id", filter=Q(job__status=JobStatus.FAILED)),
        active=Count("id", filter=Q(job__status__in=SynthesisJob.ACTIVE)),
        chars_done=Sum("character_count", filter=Q(job__status=JobStatus.COMPLETED)),
        chars_total=Sum("character_count"),
        first_start=Min("job__started_at", filter=Q(job__status=JobStatus.COMPLETED)),
    )
    done_chars = counts["chars_done"] or 0
    total_chars = counts["chars_total"] or 0
    eta = None
    if production.status == Status.RUNNING and done_chars and counts["first_start"] is not None:
        elapsed = (timezone.now() - counts["first_start"]).total_seconds()
        if elapsed > 0:
            eta = max(0.0, (total_chars - done_chars) * elapsed / done_chars)
    elif counts["done"] == counts["total"]:
        eta = 0.0
    return Progress(
        total=counts["total"],
        done=counts["done"],
        failed=counts["failed"],
        active=counts["active"],
        characters_done=done_chars,
        characters_total=total_chars,
        eta_seconds=eta,
    )


def production_event_payload(production: Production, *, progress: Progress | None = None) -> dict[str, Any]:
    progress = progress or production_progress(production=production)
    payload: dict[str, Any] = {"production_id": str(production.pk), "status": production.status, **progress.to_dict()}
    if production.status == Status.COMPLETED:
        payload["audio_url"] = f"/api/v1/productions/{production.pk}/audio"
    if production.error_message:
        payload["error"] = production.error_message
    return payload


def _announce(production: Production, event: str, **extra: Any) -> None:
    send_user_event(user_id=production.owner_id, event=event, payload={**production_event_payload(production), **extra})


# --------------------------------------------------------------------------- create


@dataclass(frozen=True)
class ProductionRequest:
    text: str
    voice: str
    title: str = ""
    language: str | None = None
    params: Mapping[str, Any] | None = None


@dataclass
class _Speaker:
    voice: Voice
    engine: Any
    language: str


def _speaker(*, user: User, ref: str, language: str | None, cache: dict[str, _Speaker]) -> _Speaker:
    key = ref.strip().lower()
    if key not in cache:
        voice = voice_resolve_for_synthesis(user=user, ref=ref)  # 404 voice_not_found / 409
        registry = get_registry()
        reason = registry.reason(voice.engine)
        if reason is not None:
            raise EngineUnavailable(reason, engine=voice.engine)
        # The engine object, not loaded: planning reads config and vocab only (as job_validate).
        engine = registry.engine(voice.engine)
        cache[key] = _Speaker(voice=voice, engine=engine, language=engine.resolve_language(language or voice.language))
    return cache[key]


def _segment_job(*, segment: ProductionSegment, speaker: _Speaker, params: SynthesisParams, api_key: APIKey | None) -> SynthesisJob:
    job_params = params.replace(seed=segment.seed) if segment.seed is not None else params
    return SynthesisJob(
        owner_id=segment.production.owner_id,
        api_key=api_key,
        mode=SynthesisJob.Mode.SEGMENT,
        priority=SynthesisJob.Priority.BULK,
        voice=speaker.voice,
        voice_name=speaker.voice.name,
        voice_builtin=speaker.voice.is_builtin,
        engine=speaker.engine.name,
        language=speaker.language,
        text=segment.text,
        params=job_params.to_dict(),
        output_format="wav",
        word_count=textmod.count_words(segment.text),
        character_count=segment.character_count,
    )


UPLOAD_EXTENSIONS = (".txt", ".md", ".markdown")


def production_text_from_upload(*, name: str, size: int, chunks: Any) -> str:
    """The text of an uploaded .txt or .md file (UTF-8, a BOM allowed). `chunks` yields
    its bytes; more than four bytes per allowed character is refused before reading on."""
    if not name.lower().endswith(UPLOAD_EXTENSIONS):
        raise UnsupportedMedia(
            f"Upload a .txt or .md file; {name!r} is neither.",
            details={"file": [f"Allowed extensions: {', '.join(UPLOAD_EXTENSIONS)}."]},
        )
    cap = 8 * settings.LONGFORM_MAX_CHARACTERS + 1024  # UTF-8 is at most 4 bytes a character, markup doubles it
    if size > cap:
        raise PayloadTooLarge(f"The file is {size} bytes; at most {cap} are read.", details={"file": [f"At most {cap} bytes."]})
    data = b"".join(chunks)
    if not data:
        raise Unprocessable("The file is empty: upload the text to speak.", details={"file": ["The file is empty."]})
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnsupportedMedia(
            f"The file is not UTF-8 text (byte {exc.start} cannot be read); save it as UTF-8 and upload it again.",
            details={"file": ["Not UTF-8 text."]},
        ) from exc


def production_create(*, user: User, req: ProductionRequest, api_key: APIKey | None = None) -> Production:
    """Accept a long text: split it into chapters and segments (productions.parsing),
    check every segment as a synthesis request would be checked, bill its characters
    once against the quota, and queue one bulk job per segment."""
    limit = settings.LONGFORM_MAX_CHARACTERS
    if len(req.text) > 2 * limit:
        raise ApiError(
            f"The text is {len(req.text)} characters long with its markup and spacing; at most {2 * limit} are accepted "
            f"(and {limit} spoken characters, LONGFORM_MAX_CHARACTERS).",
            details={"text": [f"At most {limit} spoken characters."], "limit": limit},
        )
    title = " ".join((req.title or "").split())[:200] or "Untitled production"
    chapters = parse(req.text, title=title, sentence_limit=settings.MAX_TEXT_LENGTH)
    characters = sum(s.characters for c in chapters for s in c.segments)
    if not characters:
        raise ApiError(
            "The text has nothing to speak: it needs at least one letter or digit outside headings, markers and emotion tags.",
            details={"text": ["Nothing to speak."]},
        )
    if characters > limit:
        raise ApiError(
            f"The text is {characters} spoken characters; a production takes at most {limit} (LONGFORM_MAX_CHARACTERS). "
            "Split it into several productions.",
            details={"text": [f"At most {limit} spoken characters."], "limit": limit, "characters": characters},
        )
    params = SynthesisParams.from_dict(dict(req.params or {}))
    speakers: dict[str, _Speaker] = {}
    default = _speaker(user=user, ref=req.voice, language=req.language, cache=speakers)
    planned: list[tuple[int, Any, _Speaker]] = []  # (chapter index, parsed segment, speaker)
    for number, chapter in enumerate(chapters, start=1):
        for parsed in chapter.segments:
            ref = parsed.voice or chapter.voice
            speaker = _speaker(user=user, ref=ref, language=req.language, cache=speakers) if ref else default
            # Full validation now (text, language, params, voice): a bad passage is a 400
            # naming it, never a failed segment an hour later.
            speaker.engine.plan(parsed.text, language=speaker.language, voice=voice_ref(speaker.voice), params=params)
            planned.append((number, parsed, speaker))
    with transaction.atomic():
        quota_lock_user(user=user)
        quota_check_job(user=user, characters=characters, mode=SynthesisJob.Mode.SEGMENT)
        production = Production.objects.create(
            owner=user,
            api_key=api_key,
            title=title,
            voice_name=default.voice.name,
            language=req.language or "",
            params=params.to_dict(),
            character_count=characters,
            word_count=sum(textmod.count_words(p.text) for _, p, _ in planned),
            segments_total=len(planned),
        )
        chapter_rows = Chapter.objects.bulk_create(
            [Chapter(production=production, index=n, title=c.title) for n, c in enumerate(chapters, start=1)]
        )
        by_index = {c.index: c for c in chapter_rows}
        segments = [
            ProductionSegment(
                production=production,
                chapter=by_index[number],
                index=n,
                text=parsed.text,
                voice=speaker.voice,
                voice_name=speaker.voice.name,
                character_count=parsed.characters,
            )
            for n, (number, parsed, speaker) in enumerate(planned, start=1)
        ]
        jobs = [_segment_job(segment=s, speaker=sp, params=params, api_key=api_key) for s, (_, _, sp) in zip(segments, planned)]
        SynthesisJob.objects.bulk_create(jobs)
        for segment, job in zip(segments, jobs):
            segment.job = job
        ProductionSegment.objects.bulk_create(segments)
        # Billed once, now: one usage row for the whole production (its id in job_id);
        # a cancellation refunds what was not spoken (production_cancel).
        UsageRecord.objects.create(
            job_id=production.pk,
            user=user,
            api_key=api_key,
            api_key_prefix=api_key.prefix if api_key else "",
            voice_name=default.voice.name,
            engine=default.engine.name,
            language=default.language,
            characters=characters,
            words=production.word_count,
        )
        transaction.on_commit(lambda: (_announce(production, "production.created"), wake_worker()))
    audit_record(
        action="production.created",
        user=user,
        target_type="production",
        target_id=str(production.pk),
        details={"characters": characters, "segments": len(planned), "chapters": len(chapters), "voices": sorted(speakers)},
    )
    return production


# --------------------------------------------------------------------------- control


def _cancel_jobs(production: Production, *, statuses: tuple[str, ...]) -> int:
    job_ids = ProductionSegment.objects.filter(production=production).exclude(job=None).values("job_id")
    return SynthesisJob.objects.filter(pk__in=job_ids, status__in=statuses).update(
        status=JobStatus.CANCELLED, finished_at=timezone.now(), lease_owner="", lease_expires_at=None
    )


def production_pause(*, production: Production) -> Production:
    """Withdraw the queued segments; those being spoken finish. Resume queues the rest."""
    if production.status != Status.RUNNING:
        raise Conflict(f"Only a running production can be paused; this one is {production.status}.", details={"status": production.status})
    with transaction.atomic():
        if not Production.objects.filter(pk=production.pk, status=Status.RUNNING).update(status=Status.PAUSED):
            raise Conflict("The production changed meanwhile; reload it.")
        _cancel_jobs(production, statuses=(JobStatus.QUEUED,))
    production.refresh_from_db()
    audit_record(action="production.paused", user=production.owner, target_type="production", target_id=str(production.pk))
    _announce(production, "production.paused")
    return production


def production_resume(*, production: Production) -> Production:
    """Queue again every segment without a finished or active job (withdrawn by a pause,
    or failed), then move along (it may be all done already)."""
    # An assembling production is resumable too: its assembler may have died with its
    # process (then it would stay assembling); a second assembly is harmless.
    if production.status not in (Status.PAUSED, Status.FAILED, Status.ASSEMBLING):
        raise Conflict(
            f"Only a paused, failed or assembling production can be resumed; this one is {production.status}.",
            details={"status": production.status},
        )
    with transaction.atomic():
        if not Production.objects.filter(pk=production.pk, status=production.status).update(status=Status.RUNNING, error_message=""):
            raise Conflict("The production changed meanwhile; reload it.")
        production.refresh_from_db()
        _requeue_unfinished(production)
        transaction.on_commit(wake_worker)
    audit_record(action="production.resumed", user=production.owner, target_type="production", target_id=str(production.pk))
    _announce(production, "production.resumed")
    production_advance(production_id=production.pk)
    production.refresh_from_db()
    return production


def _requeue_unfinished(production: Production) -> int:
    waiting = (
        ProductionSegment.objects.filter(production=production)
        .filter(Q(job=None) | Q(job__status__in=(JobStatus.CANCELLED, JobStatus.FAILED)))
        .select_related("production", "voice")
    )
    params = SynthesisParams.from_dict(production.params)
    cache: dict[str, _Speaker] = {}
    segments = list(waiting)
    for segment in segments:
        if segment.voice is None:
            raise Conflict(
                f"Segment {segment.index}'s voice {segment.voice_name!r} was deleted; regenerate it with another text or cancel.",
                details={"segment": segment.index},
            )
        speaker = _speaker(user=production.owner, ref=str(segment.voice.pk), language=production.language or None, cache=cache)
        job = _segment_job(segment=segment, speaker=speaker, params=params, api_key=production.api_key)
        job.save()
        segment.job = job
    ProductionSegment.objects.bulk_update(segments, ["job"])
    return len(segments)


def production_cancel(*, production: Production) -> Production:
    """Stop for good: queued and running segments are cancelled (a worker speaking one
    sees its lease gone at the next sentence); what was not spoken is refunded."""
    if production.status in (Status.COMPLETED, Status.CANCELLED):
        raise Conflict(f"The production is already {production.status}.", details={"status": production.status})
    with transaction.atomic():
        if not Production.objects.filter(pk=production.pk).exclude(status__in=(Status.COMPLETED, Status.CANCELLED)).update(
            status=Status.CANCELLED, finished_at=timezone.now()
        ):
            raise Conflict("The production changed meanwhile; reload it.")
        _cancel_jobs(production, statuses=SynthesisJob.ACTIVE)
        spoken = ProductionSegment.objects.filter(production=production, job__status=JobStatus.COMPLETED).aggregate(n=Sum("character_count"))["n"] or 0
        refunded = UsageRecord.objects.filter(job_id=production.pk).update(characters=spoken)
    production.refresh_from_db()
    audit_record(
        action="production.cancelled", user=production.owner, target_type="production", target_id=str(production.pk),
        details={"characters_billed": spoken, "usage_updated": bool(refunded)},
    )
    _announce(production, "production.cancelled")
    return production


def production_delete(*, production: Production) -> None:
    """Delete a production, its segment jobs and every file (segments and assemblies)."""
    if production.status not in (Status.COMPLETED, Status.CANCELLED):
        _cancel_jobs(production, statuses=SynthesisJob.ACTIVE)
    job_ids = list(ProductionSegment.objects.filter(production=production).exclude(job=None).values_list("job_id", flat=True))
    jobs = list(SynthesisJob.objects.filter(pk__in=job_ids))
    owner_id, production_id = production.owner_id, production.pk
    with transaction.atomic():
        production.delete()
        SynthesisJob.objects.filter(pk__in=job_ids).delete()
    for job in jobs:
        _remove_job_files(job)
    media.remove_production_dir(owner_id=owner_id, production_id=production_id)
    audit_record(action="production.deleted", target_type="production", target_id=str(production_id))


def _remove_job_files(job: SynthesisJob) -> None:
    for path in media.job_audio_files(job.audio_file):
        media.unlink_quietly(path)


# --------------------------------------------------------------------------- regenerate


def production_segment_regenerate(
    *, production: Production, segment: ProductionSegment, text: str | None = None, seed: int | None = None
) -> ProductionSegment:
    """Speak one segment again, with a new seed (given, or drawn) or an edited text; the
    rest is kept and the production is assembled again when it is done. The new
    characters are billed (under the quota)."""
    if production.status == Status.CANCELLED:
        raise Conflict("The production was cancelled; create a new one.", details={"status": production.status})
    if segment.voice is None:
        raise Conflict(f"This segment's voice {segment.voice_name!r} was deleted.", details={"segment": segment.index})
    new_text = segment.text if text is None else text
    if text is not None:
        limit = settings.MAX_TEXT_LENGTH
        count = textmod.count_characters(new_text)
        if not textmod.has_speech(new_text):
            raise ApiError("The new text has nothing to speak: give at least one letter or digit.", details={"text": ["Nothing to speak."]})
        if count > limit or len(new_text) > 2 * limit:
            raise ApiError(
                f"A segment's text is at most {limit} spoken characters (MAX_TEXT_LENGTH); this one is {count}.",
                details={"text": [f"At most {limit} characters."], "limit": limit},
            )
    if seed is None and text is None:
        seed = secrets.randbelow(2**31)
    params = SynthesisParams.from_dict({**production.params, **({"seed": seed} if seed is not None else {})})
    speaker = _speaker(user=production.owner, ref=str(segment.voice.pk), language=production.language or None, cache={})
    speaker.engine.plan(new_text, language=speaker.language, voice=voice_ref(speaker.voice), params=params)
    characters = textmod.count_characters(new_text)
    with transaction.atomic():
        quota_lock_user(user=production.owner)
        quota_check_job(user=production.owner, characters=characters, mode=SynthesisJob.Mode.SEGMENT)
        current = Production.objects.select_for_update().get(pk=production.pk)
        if current.status == Status.CANCELLED:
            raise Conflict("The production was cancelled; create a new one.")
        # The old revision's job goes (a worker speaking it loses its lease and stops at
        # the next sentence; its completion would find no row).
        old_job = SynthesisJob.objects.filter(pk=segment.job_id).first() if segment.job_id else None
        segment.text = new_text
        segment.character_count = characters
        segment.seed = seed if seed is not None else segment.seed
        segment.revision = F("revision") + 1
        segment.job = None
        if current.status != Status.PAUSED:  # paused: resume queues it with the rest
            job = _segment_job(segment=segment, speaker=speaker, params=SynthesisParams.from_dict(production.params), api_key=production.api_key)
            job.save()
            segment.job = job
            Production.objects.filter(pk=current.pk).update(status=Status.RUNNING, error_message="", finished_at=None)
            transaction.on_commit(wake_worker)
        segment.save(update_fields=["text", "character_count", "seed", "revision", "job"])
        Production.objects.filter(pk=current.pk).update(
            character_count=ProductionSegment.objects.filter(production=current).aggregate(n=Sum("character_count"))["n"] or 0
        )
        UsageRecord.objects.filter(job_id=production.pk).update(characters=F("characters") + characters)
        if old_job is not None:
            SynthesisJob.objects.filter(pk=old_job.pk).delete()
    if old_job is not None:
        _remove_job_files(old_job)
    segment.refresh_from_db()
    production.refresh_from_db()
    audit_record(
        action="production.segment_regenerated", user=production.owner, target_type="production", target_id=str(production.pk),
        details={"segment": segment.index, "revision": segment.revision, "edited": text is not None, "characters": characters},
    )
    _announce(production, "production.segment", segment=segment_payload(segment))
    return segment


def segment_payload(segment: ProductionSegment) -> dict[str, Any]:
    job = segment.job
    return {
        "index": segment.index,
        "chapter": segment.chapter.index if segment.chapter_id else None,
        "revision": segment.revision,
        "status": job.status if job else "pending",
        "audio_url": f"/api/v1/productions/{segment.production_id}/segments/{segment.index}/audio"
        if job and job.status == JobStatus.COMPLETED
        else None,
    }


# --------------------------------------------------------------------------- advance


def production_segment_finished(job: SynthesisJob) -> None:
    """The queue's finished-job listener (productions.apps hands it down): a segment's
    job completed or failed. Its production hears of it and moves along. A job of an
    older revision (regenerated meanwhile) changes nothing."""
    if job.mode != SynthesisJob.Mode.SEGMENT:
        return
    segment = ProductionSegment.objects.filter(job_id=job.pk).select_related("production", "chapter", "job").first()
    if segment is None:
        return
    production = segment.production
    _announce(production, "production.segment", segment=segment_payload(segment))
    production_advance(production_id=production.pk)


def production_advance(*, production_id: Any) -> Production | None:
    """Assemble a running production whose segments are all spoken (one caller wins the
    running → assembling step), or mark it failed when a segment failed for good and
    nothing is left running. Safe to call any time, from any process."""
    production = Production.objects.filter(pk=production_id).first()
    if production is None or production.status != Status.RUNNING:
        return production
    progress = production_progress(production=production)
    if progress.total and progress.done == progress.total:
        if Production.objects.filter(pk=production.pk, status=Status.RUNNING).update(status=Status.ASSEMBLING):
            production.refresh_from_db()
            _announce(production, "production.assembling")
            production_assemble(production=production)
    elif progress.failed and not progress.active:
        failed = list(
            ProductionSegment.objects.filter(production=production, job__status=JobStatus.FAILED).values_list("index", "job__error_message")[:5]
        )
        message = "; ".join(f"segment {index}: {error}" for index, error in failed)
        if Production.objects.filter(pk=production.pk, status=Status.RUNNING).update(
            status=Status.FAILED, error_message=f"{progress.failed} segment(s) failed ({message}). Resume retries them; regenerate changes one."[:2000]
        ):
            production.refresh_from_db()
            _announce(production, "production.failed")
    return production


def production_assemble(*, production: Production) -> Production:
    """Write the whole and one file per chapter (productions.assembly) into a fresh
    folder, then switch the production to it, unless a regeneration or a cancellation
    came meanwhile (then this assembly is discarded)."""
    segments = list(
        ProductionSegment.objects.filter(production=production).select_related("chapter", "job").order_by("index")
    )
    relative = media.production_assembly_relative(owner_id=production.owner_id, production_id=production.pk)
    folder = media.absolute(relative)
    try:
        if any(s.job is None or s.job.status != JobStatus.COMPLETED or not s.job.audio_file for s in segments):
            raise ValueError("a segment has no audio")
        result = assemblymod.assemble(
            segments=[
                assemblymod.SegmentAudio(
                    chapter=s.chapter.index, chapter_title=s.chapter.title, index=s.index,
                    text=textmod.spoken_text(s.text), path=media.absolute(s.job.audio_file),  # type: ignore[union-attr]
                )
                for s in segments
            ],
            master=folder / "whole.wav",
            chapter_path=lambda n: folder / f"chapter-{n:03d}.wav",
        )
    except Exception as exc:
        logger.exception("production %s: assembly failed", production.pk)
        media.remove_production_dir(owner_id=production.owner_id, production_id=production.pk, keep=production.audio_file.rsplit("/", 1)[0] if production.audio_file else "")
        if Production.objects.filter(pk=production.pk, status=Status.ASSEMBLING).update(
            status=Status.FAILED, error_message=f"Assembly failed: {type(exc).__name__}: {exc}. Resume to try again."[:2000]
        ):
            production.refresh_from_db()
            _announce(production, "production.failed")
        return production
    data = {**result.to_dict(), "folder": relative}
    switched = Production.objects.filter(pk=production.pk, status=Status.ASSEMBLING).update(
        status=Status.COMPLETED,
        audio_file=f"{relative}/whole.wav",
        audio_duration=result.duration,
        assembly=data,
        assembled_at=timezone.now(),
        finished_at=timezone.now(),
    )
    production.refresh_from_db()
    if switched:
        media.remove_production_dir(owner_id=production.owner_id, production_id=production.pk, keep=relative)
        UsageRecord.objects.filter(job_id=production.pk).update(audio_seconds=result.duration)
        audit_record(
            action="production.completed", user=production.owner, target_type="production", target_id=str(production.pk),
            details={"duration": round(result.duration, 2), "loudness_lufs": result.loudness_lufs},
        )
        _announce(production, "production.completed")
    else:
        media.remove_production_dir(owner_id=production.owner_id, production_id=production.pk, keep=production.audio_file.rsplit("/", 1)[0] if production.audio_file else "")
    return production
