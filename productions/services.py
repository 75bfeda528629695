"""Long-form productions, the writes (docs/ARCHITECTURE.md, "Long-form productions"):
accept a text (split, validated, billed once), pause, resume, cancel, regenerate one
segment, delete; and move a production along when one of its segment jobs ends
(`production_segment_finished`, handed to synthesis.queue at start-up), assembling it
when the last one is done.

Every segment is a SynthesisJob (mode `segment`, priority `bulk`): the queue's claims,
leases and requeues do the scheduling. This module never writes a job or a usage row
itself: it asks synthesis (synthesis.segment_jobs, synthesis.usage), so a segment's job
is checked, announced, counted and audited like any other (tests/architecture).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Min, Q, Sum
from django.utils import timezone

from accounts.models import APIKey, User
from core import media
from core.errors import ApiError, Conflict, PayloadTooLarge, Unprocessable, UnsupportedMedia
from core.events import send_user_event
from core.wakeup import wake_worker
from monitoring.services import audit_record
from productions import assembly as assemblymod
from productions.models import Chapter, Production, ProductionSegment
from productions.parsing import TooMany, parse
from pronunciation.selectors import Locator, lexicon_for_request
from speech import text as textmod
from speech.engines.params import SynthesisParams
from speech.pronunciation import Lexicon
from synthesis.models import SynthesisJob
from synthesis.quotas import quota_check_job, quota_lock_user
from synthesis.segment_jobs import (
    BATCH,
    SegmentJobSpec,
    SegmentSpeaker,
    segment_jobs_build,
    segment_jobs_cancel,
    segment_jobs_delete,
    segment_jobs_enqueue,
    segment_speaker_resolve,
    segment_text_validate,
)
from synthesis.usage import usage_charge, usage_record_audio, usage_record_production, usage_refund

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
    # Pronunciation dictionaries for every segment; None: the account's default.
    dictionaries: tuple[Locator, ...] | None = None


def _speaker(*, user: User, ref: str, language: str | None, cache: dict[str, SegmentSpeaker]) -> SegmentSpeaker:
    key = ref.strip().lower()
    if key not in cache:
        cache[key] = segment_speaker_resolve(user=user, ref=ref, language=language)  # 404 voice_not_found / 409
    return cache[key]


def _segment_spec(segment: ProductionSegment, speaker: SegmentSpeaker) -> SegmentJobSpec:
    return SegmentJobSpec(text=segment.text, characters=segment.character_count, speaker=speaker, seed=segment.seed)


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
        raise PayloadTooLarge(
            f"The file is {size} bytes; at most {cap} are read.", details={"file": [f"At most {cap} bytes."]}
        )
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


def _parse_bounded(text: str, *, title: str) -> list[Any]:
    """Chapters and segments, bounded (LONGFORM_MAX_CHAPTERS, LONGFORM_MAX_SEGMENTS):
    past either the parser stops and the answer is a 413 naming the limit, before
    anything is checked or written."""
    try:
        return parse(
            text,
            title=title,
            sentence_limit=settings.MAX_TEXT_LENGTH,
            max_segments=settings.LONGFORM_MAX_SEGMENTS,
            max_chapters=settings.LONGFORM_MAX_CHAPTERS,
        )
    except TooMany as exc:
        name = "LONGFORM_MAX_CHAPTERS" if exc.what == "chapters" else "LONGFORM_MAX_SEGMENTS"
        hint = "Use fewer headings" if exc.what == "chapters" else "Use fewer [voice: …] switches"
        raise PayloadTooLarge(
            f"The text makes more than {exc.limit} {exc.what}; a production takes at most {exc.limit} ({name}). "
            f"{hint}, or split it into several productions.",
            details={"text": [f"At most {exc.limit} {exc.what}."], "limit": exc.limit},
        ) from exc


def production_create(*, user: User, req: ProductionRequest, api_key: APIKey | None = None) -> Production:
    """Accept a long text: split it into chapters and segments (productions.parsing),
    check every segment as a synthesis request would be checked, bill its characters
    once against the quota, and queue one bulk job per segment.

    The production, its chapters and its usage row are written in one transaction; the
    segments and their jobs follow in batches of synthesis.segment_jobs.BATCH, each its
    own short transaction, so other users' requests never wait long behind a big book.
    production_advance waits until every segment exists (segments_total)."""
    limit = settings.LONGFORM_MAX_CHARACTERS
    if len(req.text) > 2 * limit:
        raise ApiError(
            f"The text is {len(req.text)} characters long with its markup and spacing; at most {2 * limit} "
            "are accepted "
            f"(and {limit} spoken characters, LONGFORM_MAX_CHARACTERS).",
            details={"text": [f"At most {limit} spoken characters."], "limit": limit},
        )
    title = " ".join((req.title or "").split())[:200] or "Untitled production"
    chapters = _parse_bounded(req.text, title=title)
    characters = sum(s.characters for c in chapters for s in c.segments)
    if not characters:
        raise ApiError(
            "The text has nothing to speak: it needs at least one letter or digit outside headings, markers "
            "and emotion tags.",
            details={"text": ["Nothing to speak."]},
        )
    if characters > limit:
        raise ApiError(
            f"The text is {characters} spoken characters; a production takes at most {limit} "
            "(LONGFORM_MAX_CHARACTERS). "
            "Split it into several productions.",
            details={"text": [f"At most {limit} spoken characters."], "limit": limit, "characters": characters},
        )
    # Checked now; kept as given, so that each segment's voice's own defaults fill in
    # what the production leaves out (synthesis.services.job_params_resolve).
    SynthesisParams.from_dict(dict(req.params or {}))
    params = dict(req.params or {})
    # All the rules, not only those the text uses: a regenerated segment may use others.
    lexicon = lexicon_for_request(owner=user, locators=req.dictionaries)
    speakers: dict[str, SegmentSpeaker] = {}
    default = _speaker(user=user, ref=req.voice, language=req.language, cache=speakers)
    planned: list[tuple[int, Any, SegmentSpeaker]] = []  # (chapter index, parsed segment, speaker)
    for number, chapter in enumerate(chapters, start=1):
        for parsed in chapter.segments:
            ref = parsed.voice or chapter.voice
            speaker = _speaker(user=user, ref=ref, language=req.language, cache=speakers) if ref else default
            segment_text_validate(text=parsed.text, speaker=speaker, params=params, lexicon=lexicon)
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
            params=params,
            lexicon=lexicon.to_list(),
            character_count=characters,
            word_count=sum(textmod.count_words(p.text) for _, p, _ in planned),
            segments_total=len(planned),
        )
        Chapter.objects.bulk_create(
            [Chapter(production=production, index=n, title=c.title) for n, c in enumerate(chapters, start=1)],
            batch_size=BATCH,
        )
        # Billed once, now: one usage row for the whole production (its id in job_id);
        # what is never spoken is refunded (production_cancel, production_segment_regenerate).
        usage_record_production(
            production_id=production.pk,
            user=user,
            api_key=api_key,
            voice_name=default.voice.name,
            engine=default.engine.name,
            language=default.language,
            characters=characters,
            words=production.word_count,
        )
    try:
        chapter_ids = dict(Chapter.objects.filter(production=production).values_list("index", "pk"))
        for start in range(0, len(planned), BATCH):
            if not _create_segments(production, planned, start=start, chapter_ids=chapter_ids, params=params):
                break  # cancelled meanwhile: its refund counted the segments never written
    except BaseException:
        # A half-written production is of no use: stop it, refund it, and say why.
        logger.exception("production %s: writing its segments failed", production.pk)
        production.refresh_from_db()
        if production.status not in (Status.COMPLETED, Status.CANCELLED):
            production_cancel(production=production)
        raise
    _announce(production, "production.created")
    audit_record(
        action="production.created",
        user=user,
        target_type="production",
        target_id=str(production.pk),
        details={
            "characters": characters,
            "segments": len(planned),
            "chapters": len(chapters),
            "voices": sorted(speakers),
        },
    )
    production.refresh_from_db()
    return production


def _create_segments(
    production: Production,
    planned: list[tuple[int, Any, SegmentSpeaker]],
    *,
    start: int,
    chapter_ids: dict[int, int],
    params: Mapping[str, Any],
) -> bool:
    """One batch of segments, with their jobs while the production runs (a paused one
    gets them when it resumes). False when the production was cancelled meanwhile."""
    with transaction.atomic():
        locked = Production.objects.select_for_update().filter(pk=production.pk)
        status = locked.values_list("status", flat=True).first()
        if status is None or status == Status.CANCELLED:
            return False
        batch = planned[start : start + BATCH]
        segments = [
            ProductionSegment(
                production=production,
                chapter_id=chapter_ids[number],
                index=n,
                text=parsed.text,
                voice=speaker.voice,
                voice_name=speaker.voice.name,
                character_count=parsed.characters,
            )
            for n, (number, parsed, speaker) in enumerate(batch, start=start + 1)
        ]
        if status != Status.PAUSED:
            jobs = segment_jobs_build(
                owner_id=production.owner_id,
                api_key=production.api_key,
                params=params,
                specs=[_segment_spec(s, sp) for s, (_, _, sp) in zip(segments, batch, strict=True)],
                lexicon=Lexicon.from_list(production.lexicon),
            )
            segment_jobs_enqueue(owner=production.owner, jobs=jobs)
            for segment, job in zip(segments, jobs, strict=True):
                segment.job = job
        ProductionSegment.objects.bulk_create(segments)
        transaction.on_commit(wake_worker)
    return True


# --------------------------------------------------------------------------- control


def _job_ids(production: Production) -> list[Any]:
    segments = ProductionSegment.objects.filter(production=production).exclude(job=None)
    return list(segments.values_list("job_id", flat=True))


def _cancel_jobs(production: Production, *, statuses: tuple[str, ...]) -> int:
    return len(segment_jobs_cancel(job_ids=_job_ids(production), statuses=statuses))


def production_pause(*, production: Production) -> Production:
    """Withdraw the queued segments; those being spoken finish. Resume queues the rest."""
    if production.status != Status.RUNNING:
        raise Conflict(
            f"Only a running production can be paused; this one is {production.status}.",
            details={"status": production.status},
        )
    if not Production.objects.filter(pk=production.pk, status=Status.RUNNING).update(status=Status.PAUSED):
        raise Conflict("The production changed meanwhile; reload it.")
    _cancel_jobs(production, statuses=(JobStatus.QUEUED,))
    production.refresh_from_db()
    audit_record(
        action="production.paused", user=production.owner, target_type="production", target_id=str(production.pk)
    )
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
    waiting = _unfinished(production)  # a 409 here changes nothing
    resumed = Production.objects.filter(pk=production.pk, status=production.status)
    if not resumed.update(status=Status.RUNNING, error_message=""):
        raise Conflict("The production changed meanwhile; reload it.")
    production.refresh_from_db()
    _requeue(production, waiting)
    audit_record(
        action="production.resumed", user=production.owner, target_type="production", target_id=str(production.pk)
    )
    _announce(production, "production.resumed")
    production_advance(production_id=production.pk)
    production.refresh_from_db()
    return production


def _unfinished(production: Production) -> list[tuple[ProductionSegment, SegmentSpeaker]]:
    """Every segment without a finished or active job, with its speaker; a 409 when a
    segment's voice was deleted."""
    waiting = (
        ProductionSegment.objects.filter(production=production)
        .filter(Q(job=None) | Q(job__status__in=(JobStatus.CANCELLED, JobStatus.FAILED)))
        .select_related("voice")
        .order_by("index")
    )
    cache: dict[str, SegmentSpeaker] = {}
    found = []
    for segment in waiting:
        if segment.voice is None:
            raise Conflict(
                f"Segment {segment.index}'s voice {segment.voice_name!r} was deleted; regenerate it with "
                "another text or cancel.",
                details={"segment": segment.index},
            )
        speaker = _speaker(
            user=production.owner, ref=str(segment.voice.pk), language=production.language or None, cache=cache
        )
        found.append((segment, speaker))
    return found


def _requeue(production: Production, waiting: list[tuple[ProductionSegment, SegmentSpeaker]]) -> None:
    """A new job for each waiting segment, in short batches (as production_create
    writes them)."""
    params = dict(production.params or {})
    for start in range(0, len(waiting), BATCH):
        batch = waiting[start : start + BATCH]
        with transaction.atomic():
            jobs = segment_jobs_build(
                owner_id=production.owner_id,
                api_key=production.api_key,
                params=params,
                specs=[_segment_spec(segment, speaker) for segment, speaker in batch],
                lexicon=Lexicon.from_list(production.lexicon),
            )
            segment_jobs_enqueue(owner=production.owner, jobs=jobs)
            for (segment, _), job in zip(batch, jobs, strict=True):
                segment.job = job
            ProductionSegment.objects.bulk_update([segment for segment, _ in batch], ["job"])
            transaction.on_commit(wake_worker)


def production_cancel(*, production: Production) -> Production:
    """Stop for good: queued and running segments are cancelled (a worker speaking one
    sees its lease gone at the next sentence), each job announced as job_cancel
    announces one. Only what was never spoken is refunded: the current revisions
    without a completed job (and any segment not written yet). Revisions spoken and
    replaced since stay billed (production_segment_regenerate)."""
    if production.status in (Status.COMPLETED, Status.CANCELLED):
        raise Conflict(f"The production is already {production.status}.", details={"status": production.status})
    if (
        not Production.objects.filter(pk=production.pk)
        .exclude(status__in=(Status.COMPLETED, Status.CANCELLED))
        .update(status=Status.CANCELLED, finished_at=timezone.now())
    ):
        raise Conflict("The production changed meanwhile; reload it.")
    # From here on no segment of it is created, queued or regenerated: the refund is final.
    _cancel_jobs(production, statuses=SynthesisJob.ACTIVE)
    production.refresh_from_db()
    spoken = (
        ProductionSegment.objects.filter(production=production, job__status=JobStatus.COMPLETED).aggregate(
            n=Sum("character_count")
        )["n"]
        or 0
    )
    unspoken = max(0, production.character_count - spoken)
    usage_refund(record_job_id=production.pk, characters=unspoken)
    audit_record(
        action="production.cancelled",
        user=production.owner,
        target_type="production",
        target_id=str(production.pk),
        details={"characters_refunded": unspoken},
    )
    _announce(production, "production.cancelled")
    return production


def production_delete(*, production: Production) -> None:
    """Delete a production, its segment jobs and every file (segments and assemblies).
    One not finished is cancelled first (its unspoken characters refunded); the usage
    row stays, as the history of what was billed."""
    if production.status not in (Status.COMPLETED, Status.CANCELLED):
        try:
            production_cancel(production=production)
        except Conflict:
            production.refresh_from_db()  # finished meanwhile: nothing to refund
    job_ids = _job_ids(production)
    owner_id, production_id = production.owner_id, production.pk
    # The production's rows first (one cascade), then its jobs and files in batches.
    production.delete()
    segment_jobs_delete(job_ids=job_ids)
    media.remove_production_dir(owner_id=owner_id, production_id=production_id)
    audit_record(action="production.deleted", target_type="production", target_id=str(production_id))


# --------------------------------------------------------------------------- regenerate


def production_segment_regenerate(
    *, production: Production, segment: ProductionSegment, text: str | None = None, seed: int | None = None
) -> ProductionSegment:
    """Speak one segment again, with a new seed (given, or drawn) or an edited text; the
    rest is kept and the production is assembled again when it is done. The new
    characters are billed (under the quota); the replaced revision stays billed if it
    was spoken, and is refunded if it never was (queued, withdrawn or failed)."""
    if production.status == Status.CANCELLED:
        raise Conflict("The production was cancelled; create a new one.", details={"status": production.status})
    if segment.voice is None:
        raise Conflict(f"This segment's voice {segment.voice_name!r} was deleted.", details={"segment": segment.index})
    new_text = segment.text if text is None else text
    if text is not None and not textmod.has_speech(new_text):
        raise ApiError(
            "The new text has nothing to speak: give at least one letter or digit.",
            details={"text": ["Nothing to speak."]},
        )
    if seed is None and text is None:
        seed = secrets.randbelow(2**31)
    params = {**production.params, **({"seed": seed} if seed is not None else {})}
    speaker = _speaker(user=production.owner, ref=str(segment.voice.pk), language=production.language or None, cache={})
    segment_text_validate(text=new_text, speaker=speaker, params=params, lexicon=Lexicon.from_list(production.lexicon))
    characters = textmod.count_characters(new_text)
    with transaction.atomic():
        quota_lock_user(user=production.owner)
        quota_check_job(user=production.owner, characters=characters, mode=SynthesisJob.Mode.SEGMENT)
        current = Production.objects.select_for_update().get(pk=production.pk)
        if current.status == Status.CANCELLED:
            raise Conflict("The production was cancelled; create a new one.")
        # The old revision's job goes (a worker speaking it loses its lease and stops at
        # the next sentence; its completion would find no row). Spoken, it stays billed.
        segment = ProductionSegment.objects.select_related("job").get(pk=segment.pk)
        old_job_id = segment.job_id
        old_spoken = segment.job is not None and segment.job.status == JobStatus.COMPLETED
        old_characters = segment.character_count
        segment.text = new_text
        segment.character_count = characters
        segment.seed = seed if seed is not None else segment.seed
        segment.revision = F("revision") + 1
        segment.job = None
        if current.status != Status.PAUSED:  # paused: resume queues it with the rest
            (job,) = segment_jobs_enqueue(
                owner=production.owner,
                jobs=segment_jobs_build(
                    owner_id=production.owner_id,
                    api_key=production.api_key,
                    params=dict(production.params or {}),
                    specs=[_segment_spec(segment, speaker)],
                    lexicon=Lexicon.from_list(production.lexicon),
                ),
            )
            segment.job = job
            Production.objects.filter(pk=current.pk).update(status=Status.RUNNING, error_message="", finished_at=None)
            transaction.on_commit(wake_worker)
        segment.save(update_fields=["text", "character_count", "seed", "revision", "job"])
        Production.objects.filter(pk=current.pk).update(
            character_count=ProductionSegment.objects.filter(production=current).aggregate(n=Sum("character_count"))[
                "n"
            ]
            or 0
        )
        usage_charge(record_job_id=production.pk, characters=characters)
        if not old_spoken:
            usage_refund(record_job_id=production.pk, characters=old_characters)
    if old_job_id is not None:
        segment_jobs_delete(job_ids=[old_job_id])
    segment.refresh_from_db()
    production.refresh_from_db()
    audit_record(
        action="production.segment_regenerated",
        user=production.owner,
        target_type="production",
        target_id=str(production.pk),
        details={
            "segment": segment.index,
            "revision": segment.revision,
            "edited": text is not None,
            "characters": characters,
        },
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
    if progress.total < production.segments_total:
        return production  # its segments are still being written (production_create)
    if progress.total and progress.done == progress.total:
        if Production.objects.filter(pk=production.pk, status=Status.RUNNING).update(status=Status.ASSEMBLING):
            production.refresh_from_db()
            _announce(production, "production.assembling")
            production_assemble(production=production)
    elif progress.failed and not progress.active:
        failed = list(
            ProductionSegment.objects.filter(production=production, job__status=JobStatus.FAILED).values_list(
                "index", "job__error_message"
            )[:5]
        )
        message = "; ".join(f"segment {index}: {error}" for index, error in failed)
        if Production.objects.filter(pk=production.pk, status=Status.RUNNING).update(
            status=Status.FAILED,
            error_message=f"{progress.failed} segment(s) failed ({message}). Resume retries them; "
            "regenerate changes one."[:2000],
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
                    chapter=s.chapter.index,
                    chapter_title=s.chapter.title,
                    index=s.index,
                    text=textmod.spoken_text(s.text),
                    path=media.absolute(s.job.audio_file),  # type: ignore[union-attr]
                )
                for s in segments
            ],
            master=folder / "whole.wav",
            chapter_path=lambda n: folder / f"chapter-{n:03d}.wav",
        )
    except Exception as exc:
        logger.exception("production %s: assembly failed", production.pk)
        media.remove_production_dir(
            owner_id=production.owner_id,
            production_id=production.pk,
            keep=production.audio_file.rsplit("/", 1)[0] if production.audio_file else "",
        )
        if Production.objects.filter(pk=production.pk, status=Status.ASSEMBLING).update(
            status=Status.FAILED,
            error_message=f"Assembly failed: {type(exc).__name__}: {exc}. Resume to try again."[:2000],
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
        usage_record_audio(record_job_id=production.pk, audio_seconds=result.duration)
        audit_record(
            action="production.completed",
            user=production.owner,
            target_type="production",
            target_id=str(production.pk),
            details={"duration": round(result.duration, 2), "loudness_lufs": result.loudness_lufs},
        )
        _announce(production, "production.completed")
    else:
        media.remove_production_dir(
            owner_id=production.owner_id,
            production_id=production.pk,
            keep=production.audio_file.rsplit("/", 1)[0] if production.audio_file else "",
        )
    return production
