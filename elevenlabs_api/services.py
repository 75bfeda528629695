"""The ElevenLabs-compatible API's services: every generation is a Speaker stream job
(queued, claimed, billed against the quota and kept in history like any other, through
synthesis.stream_service), cloning goes through voices.services.voice_create under the
account's cloning attestation, and the rest are reads of Speaker's own rows shaped as
ElevenLabs' SDK expects them (elevenlabs_api.selectors)."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from django.core.files.uploadedfile import UploadedFile
from django.http import StreamingHttpResponse

from accounts.models import APIKey, User
from core.errors import ApiError
from core.parsers import loads_request_json
from elevenlabs_api.alignment import AlignmentCursor
from elevenlabs_api.formats import OutputFormat
from elevenlabs_api.requests import BadRequest, SpeechBody, voice_settings_params
from pronunciation.selectors import Locator
from speech import markup
from speech.timings import ESTIMATED, WordTiming, char_alignment
from synthesis.models import SynthesisJob
from synthesis.services import JobRequest
from synthesis.stream_service import add_quota_headers, add_status_note_header, stream_job_create, timed_stream
from synthesis.timings import job_timings
from voices.models import Voice
from voices.selectors import clone_languages
from voices.services import voice_create
from voices.services.attestation import ATTESTATION_API_PATH, ATTESTATION_DASHBOARD_PATH, attestation_current
from voices.services.voice_settings import ELEVENLABS_EXTRAS, voice_settings_update

logger = logging.getLogger("speaker.elevenlabs")


# ------------------------------------------------------------------ text to speech


def speech_start(*, user: User, api_key: APIKey, voice_id: str, body: SpeechBody) -> SynthesisJob:
    """Validate and queue the generation as a stream job (a concurrency slot is taken;
    the response releases it). `voice_id`: a voice id, or a voice's name."""
    req = JobRequest(
        text=body.text,
        voice=voice_id,
        language=body.language,
        output_format="wav",
        params=body.params,
        text_format=markup.SSML if body.ssml else markup.TEXT,
        dictionaries=None if body.dictionaries is None else tuple(Locator(*item) for item in body.dictionaries),
    )
    return stream_job_create(user=user, req=req, api_key=api_key)


def speech_audio_response(*, job: SynthesisJob, fmt: OutputFormat) -> StreamingHttpResponse:
    """The audio, streamed as the engine makes it, in `fmt`."""
    response = StreamingHttpResponse(_audio_chunks(job, fmt), content_type=fmt.content_type)
    _stream_headers(response, job, fmt)
    return response


def speech_timestamps_stream_response(*, job: SynthesisJob, fmt: OutputFormat) -> StreamingHttpResponse:
    """Newline-delimited JSON, one `{audio_base64, alignment, normalized_alignment}` per
    segment (sentence) as the engine finishes it: the segment's audio and the alignment
    of its characters, from the words the engine timed for it (synthesis.stream_service.
    timed_stream), times in seconds from the start of the whole audio. Joined, the lines'
    alignments cover every character of the text once, in order."""
    response = StreamingHttpResponse(_timestamp_lines(job, fmt), content_type="application/x-ndjson")
    _stream_headers(response, job, fmt)
    return response


def speech_with_timestamps(*, job: SynthesisJob, fmt: OutputFormat) -> dict[str, Any]:
    """Wait for the whole generation, then answer the audio (base64) with its character
    alignment from the words the engine timed."""
    audio, words, method, error = async_to_sync(_gather)(job, fmt)
    if error is not None or not audio:
        job.refresh_from_db()
        raise ApiError(
            f"The generation did not complete ({job.status}): {job.error_message or error or 'no audio was made'}.",
            code=job.error_code or "generation_failed",
            status_code=500,
        )
    if words:
        alignment = _alignment(job.text, words, method)
    else:  # a worker that relays no words: the timings stored with the job (or estimated)
        job.refresh_from_db()
        alignment = alignment_of(job)
    return {
        "audio_base64": base64.b64encode(audio).decode("ascii"),
        "alignment": alignment,
        # Speaker speaks the text as written (no separate normalisation step it could
        # report), so the normalised text is the text.
        "normalized_alignment": alignment,
    }


async def _gather(job: SynthesisJob, fmt: OutputFormat) -> tuple[bytes, list[WordTiming], str | None, str | None]:
    audio = bytearray()
    words: list[WordTiming] = []
    method: str | None = None
    async with aclosing(timed_stream(job, fmt.encoder)) as pieces:
        async for piece in pieces:
            audio += piece.audio
            if piece.words:
                words.extend(piece.words)
                method = piece.method if method in (None, piece.method) else ESTIMATED
            if piece.error:
                return bytes(audio), words, method, piece.error
    return bytes(audio), words, method, None


def _alignment(text: str, words: list[WordTiming], method: str | None) -> dict[str, Any]:
    characters, starts, ends = char_alignment(text, words)
    out: dict[str, Any] = {
        "characters": characters,
        "character_start_times_seconds": starts,
        "character_end_times_seconds": ends,
    }
    if method:
        out["timings_method"] = method
    return out


def alignment_of(job: SynthesisJob) -> dict[str, Any]:
    """ElevenLabs' character alignment of a completed job's text from its word timings
    (synthesis.timings.job_timings: the engine's, stored with the job), each word's span
    spread over its characters (speech.timings.char_alignment). `timings_method` (an
    extra field the SDK keeps) says whether the words were timed exactly or estimated."""
    timings = job_timings(job=job)
    return _alignment(job.text, timings.words, timings.method)


def _stream_headers(response: StreamingHttpResponse, job: SynthesisJob, fmt: OutputFormat) -> None:
    response["X-Job-ID"] = str(job.pk)
    response["history-item-id"] = str(job.pk)  # ElevenLabs' own header naming the history item
    response["request-id"] = str(job.pk)
    response["X-Sample-Rate"] = str(fmt.rate)
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"
    add_status_note_header(response, job)
    add_quota_headers(response, job.owner)


async def _audio_chunks(job: SynthesisJob, fmt: OutputFormat) -> AsyncIterator[bytes]:
    # aclosing: a client that leaves closes this generator, and at once the stream's,
    # which cancels the job (synthesis.stream_service.timed_stream).
    async with aclosing(timed_stream(job, fmt.encoder)) as pieces:
        async for piece in pieces:
            if piece.audio:
                yield piece.audio
            if piece.error:
                # Headers are gone: the short body is the signal, the job row says why.
                logger.warning("elevenlabs stream for job %s failed: %s", job.pk, piece.error)
                return


async def _timestamp_lines(job: SynthesisJob, fmt: OutputFormat) -> AsyncIterator[bytes]:
    aligner = _PieceAligner(job.text)
    async with aclosing(timed_stream(job, fmt.encoder, per_segment=True)) as pieces:
        async for piece in pieces:
            if piece.error:
                # Headers are gone: the short body is the signal, the job row says why.
                logger.warning("elevenlabs stream for job %s failed: %s", job.pk, piece.error)
                return
            alignment = aligner.take(piece.words, method=piece.method) if piece.words else aligner.rest()
            if not piece.audio and alignment is None:
                continue
            yield _line(piece.audio, alignment)
    rest = aligner.rest()
    if rest is not None:
        yield _line(b"", rest)


def _line(audio: bytes, alignment: dict[str, Any] | None) -> bytes:
    body = {
        "audio_base64": base64.b64encode(audio).decode("ascii"),
        "alignment": alignment,
        "normalized_alignment": alignment,
    }
    return json.dumps(body).encode() + b"\n"


class _PieceAligner(AlignmentCursor):
    """Cuts the text's character alignment into the stream's pieces, in the REST shape
    (`characters`, `character_start_times_seconds`, …) with the timing method."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.method: str | None = None

    def take(self, words: list[WordTiming], *, method: str | None) -> dict[str, Any] | None:
        if method:
            self.method = method if self.method in (None, method) else ESTIMATED
        return self._advance(words)

    def _render(self, characters: list[str], starts: list[float], ends: list[float]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "characters": characters,
            "character_start_times_seconds": starts,
            "character_end_times_seconds": ends,
        }
        if self.method:
            out["timings_method"] = self.method
        return out


# ------------------------------------------------------------------ voices


@dataclass(frozen=True)
class VoiceAdd:
    name: str
    files: Sequence[UploadedFile]
    description: str
    labels: dict[str, str]


def parse_labels(raw: str | None) -> dict[str, str]:
    """`labels`: a JSON object of strings, as the SDK sends it (`null` or empty: none),
    read by the one JSON reader (deep nesting, NUL and lone surrogates are a 400)."""
    if raw is None or not raw.strip() or raw.strip() == "null":
        return {}
    try:
        labels = loads_request_json(raw)
    except ValueError as exc:  # InvalidJSON
        raise ApiError(
            f'labels must be a JSON object of strings, e.g. {{"language": "en"}}. {exc}', details={"labels": [str(exc)]}
        ) from exc
    if labels is None:
        return {}
    if not isinstance(labels, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in labels.items()):
        raise ApiError(
            'labels must be a JSON object of strings, e.g. {"language": "en"}.',
            details={"labels": ["not an object of strings"]},
        )
    return labels


def attestation_required_error() -> ApiError:
    return ApiError(
        "Cloning through the ElevenLabs-compatible API needs your account's cloning attestation, because this "
        "request has no consent field. Accept it once in the dashboard at "
        f'{ATTESTATION_DASHBOARD_PATH} or with POST {ATTESTATION_API_PATH} and the body {{"accept": true}}, '
        "then retry.",
        code="cloning_attestation_required",
        status_code=403,
    )


def voice_add(*, user: User, request: VoiceAdd) -> Voice:
    """Instant voice cloning: only under the account's cloning attestation (403 without
    it); the clone's consent record keeps the sample hashes and points to it. Language:
    `labels.language`, else English (or the cloning engine's first language)."""
    attestation = attestation_current(user=user)
    if attestation is None:
        raise attestation_required_error()
    languages = clone_languages()
    language = request.labels.get("language") or ("en" if "en" in languages else (languages[0] if languages else "en"))
    return voice_create(
        user=user,
        name=request.name,
        language=language,
        samples=list(request.files),
        consent=True,  # the standing attestation is the consent; recorded below with the hashes
        description=request.description,
        attestation=attestation,
    )


# ------------------------------------------------------------------ voice settings


def voice_settings_edit(*, voice: Voice, body: Any) -> Voice:
    """POST /v1/voices/{voice_id}/settings/edit: ElevenLabs' voice settings stored as the
    voice's own defaults (voices.services.voice_settings): `stability` and `speed` as the
    engine parameters they map to (elevenlabs_api.requests), the knobs no engine has kept
    as sent. Fields left out are kept; a value out of range is a 400 naming it."""
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object of voice settings.", "body")
    params = voice_settings_params(body)
    extras = {name: body[name] for name in ELEVENLABS_EXTRAS if body.get(name) is not None}
    return voice_settings_update(voice=voice, changes=params, elevenlabs=extras)
