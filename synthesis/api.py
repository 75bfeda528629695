"""Synthesis job endpoints (thin: validate, call one service, serialise)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import APIKey
from core.errors import ApiError
from core.negotiation import AudioContentNegotiation
from core.openapi import COMMON_ERRORS, PAGE_404, date_parameter, error
from core.pagination import PageNumberPagination
from pronunciation.selectors import Locator
from speech import audio as audiomod
from synthesis.downloads import job_audio_file, ranged_file_response
from synthesis.filters import HistoryFilters, parse_when
from synthesis.models import SynthesisJob
from synthesis.openapi_audio import audio_responses
from synthesis.quotas import quota_state
from synthesis.selectors import job_history, usage_summary
from synthesis.serializers import (
    BulkDeletedSerializer,
    BulkDeleteSerializer,
    JobCreateSerializer,
    JobSerializer,
    StreamCreateSerializer,
    TimingsSerializer,
    UsageSerializer,
)
from synthesis.services import JobRequest, job_cancel, job_create, job_delete, jobs_bulk_delete
from synthesis.stream_service import NDJSON_CONTENT_TYPE, stream_start, stream_start_with_timings
from synthesis.timings import CAPTION_FORMATS, job_captions, job_timings

SYNTHESIS_SCOPE = {"*": {"synthesis:write"}}
NOT_FOUND = error("Unknown job, or another user's", "not_found", "Not found.")

JOB_EXAMPLE = OpenApiExample(
    "built-in voice",
    value={
        "text": "(happy) Hello there! This is Speaker.",
        "voice": "joe",
        "language": "en",
        "format": "mp3",
        "params": {"speed": 1.1},
    },
    request_only=True,
)


def owned_job(request: Request, job_id: str) -> SynthesisJob:
    return get_object_or_404(SynthesisJob, pk=job_id, owner=request.user)


def dictionary_locators(items: list[dict] | None) -> tuple[Locator, ...] | None:
    """Validated `pronunciation_dictionary_locators` (DictionaryLocatorSerializer) as the
    services take them; None when the request named none."""
    if items is None:
        return None
    return tuple(
        Locator(str(item["pronunciation_dictionary_id"]), str(item["version_id"]) if item.get("version_id") else None)
        for item in items
    )


def job_request_from(data: dict) -> JobRequest:
    return JobRequest(
        text=data["text"],
        voice=data["voice"],
        language=data.get("language"),
        output_format=data.get("format", "wav"),
        params=data.get("params") or {},
        text_format=data.get("text_format", "text"),
        dictionaries=dictionary_locators(data.get("pronunciation_dictionary_locators")),
    )


IDEMPOTENCY_KEY_MAX_LENGTH: int = SynthesisJob._meta.get_field("idempotency_key").max_length  # type: ignore[assignment]


# What idempotency_key_from accepts, stated for clients and fuzzers: a header value is
# latin-1, and of those characters str.isprintable() refuses controls, NBSP and soft hyphen.
IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "maxLength": IDEMPOTENCY_KEY_MAX_LENGTH, "pattern": "^[\\x20-\\x7e\\xa1-\\xac\\xae-\\xff]*$"},
    OpenApiParameter.HEADER,
    required=False,
    description=f"Makes retries safe: the same key and body return the same job. At most {IDEMPOTENCY_KEY_MAX_LENGTH} "
    "printable characters (a UUID is a good key).",
)


def idempotency_key_from(request: Request) -> str | None:
    """The Idempotency-Key header, or None. One rule on every database: at most the
    column's length, printable characters only (PostgreSQL refused longer keys and NUL
    with a DataError, SQLite stored anything)."""
    key = request.headers.get("Idempotency-Key") or None
    if key is None:
        return None
    if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH or not key.isprintable():
        raise ApiError(
            f"Idempotency-Key must be at most {IDEMPOTENCY_KEY_MAX_LENGTH} printable characters (a UUID is "
            "a good key).",
            details={"Idempotency-Key": [f"At most {IDEMPOTENCY_KEY_MAX_LENGTH} printable characters."]},
        )
    return key


_STATUSES = "|".join(SynthesisJob.Status.values)
HISTORY_FILTERS = [
    OpenApiParameter(
        "status",
        {"type": "string", "pattern": f"^(({_STATUSES})(,({_STATUSES}))*)?$"},
        description="queued, running, completed, failed, cancelled (comma list)",
    ),
    OpenApiParameter("voice", OpenApiTypes.STR, description="voice id or name"),
    OpenApiParameter("language", OpenApiTypes.STR),
    date_parameter("from", "ISO date or datetime, inclusive"),
    date_parameter("to", "ISO date or datetime; a bare date includes that day"),
    OpenApiParameter("q", OpenApiTypes.STR, description="text contains (case-insensitive)"),
    OpenApiParameter("ordering", OpenApiTypes.STR, enum=["queued_at", "-queued_at"]),
]


class JobListCreateView(APIView):
    required_scopes = SYNTHESIS_SCOPE
    # Read by the schema generator too: the history is documented as the paginated
    # object (count, next, previous, results) it is, with page/page_size bounds.
    pagination_class = PageNumberPagination

    @extend_schema(
        parameters=HISTORY_FILTERS,
        responses={200: JobSerializer(many=True), 404: PAGE_404, **COMMON_ERRORS},
        tags=["synthesis"],
        summary="History",
    )
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        filters = HistoryFilters.parse(request.query_params)
        page = paginator.paginate_queryset(job_history(user=request.user, filters=filters), request, view=self)
        return paginator.get_paginated_response(JobSerializer(page, many=True).data)

    @extend_schema(
        request=JobCreateSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={
            202: JobSerializer,
            200: OpenApiResponse(JobSerializer, description="Replay: the job this Idempotency-Key already created"),
            429: error(
                "Monthly quota or active-jobs cap reached", "quota_exceeded", "Monthly character quota exceeded."
            ),
            404: error("Unknown voice", "not_found", "Not found."),
            409: error(
                "Voice not ready, engine missing, or Idempotency-Key reused",
                "conflict",
                "Voice cloning needs the xtts engine.",
            ),
            **COMMON_ERRORS,
        },
        examples=[JOB_EXAMPLE],
        tags=["synthesis"],
        summary="Queue a synthesis job",
    )
    def post(self, request: Request) -> Response:
        serializer = JobCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job, created = job_create(
            user=request.user,
            req=job_request_from(serializer.validated_data),
            api_key=request.auth if isinstance(request.auth, APIKey) else None,
            idempotency_key=idempotency_key_from(request),
        )
        response = Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)
        state = quota_state(user=request.user)
        response["X-Characters-Used"] = str(state.used + state.reserved)
        response["X-Characters-Remaining"] = str(state.remaining)
        return response


class JobDetailView(APIView):
    required_scopes = SYNTHESIS_SCOPE

    @extend_schema(responses={200: JobSerializer, 404: NOT_FOUND, **COMMON_ERRORS}, tags=["synthesis"])
    def get(self, request: Request, job_id: str) -> Response:
        return Response(JobSerializer(owned_job(request, job_id)).data)

    @extend_schema(
        responses={204: None, 404: NOT_FOUND, **COMMON_ERRORS}, tags=["synthesis"], summary="Delete a job and its audio"
    )
    def delete(self, request: Request, job_id: str) -> Response:
        job_delete(job=owned_job(request, job_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class JobCancelView(APIView):
    required_scopes = SYNTHESIS_SCOPE

    @extend_schema(
        request=None,
        responses={200: JobSerializer, 404: NOT_FOUND, 409: error("Already finished", "conflict"), **COMMON_ERRORS},
        tags=["synthesis"],
    )
    def post(self, request: Request, job_id: str) -> Response:
        return Response(JobSerializer(job_cancel(job=owned_job(request, job_id))).data)


class JobAudioView(APIView):
    content_negotiation_class = AudioContentNegotiation
    required_scopes = SYNTHESIS_SCOPE

    @extend_schema(
        parameters=[OpenApiParameter("format", OpenApiTypes.STR, enum=list(audiomod.FORMATS), required=False)],
        responses={
            **audio_responses(audiomod.FORMATS, "The audio (Range requests answered with 206)"),
            404: NOT_FOUND,
            409: error("Not completed yet", "conflict"),
            410: error(
                "The audio was deleted by the retention policy (AUDIO_RETENTION_DAYS; the job's `audio_expired`)",
                "audio_expired",
                "This job's audio was deleted after 30 days under the server's audio retention policy; "
                "its text and details stay in your history. Generate it again to hear it.",
            ),
            **COMMON_ERRORS,
        },
        tags=["synthesis"],
        summary="Download a job's audio",
    )
    def get(self, request: Request, job_id: str) -> HttpResponse:
        job = owned_job(request, job_id)
        path, content_type = job_audio_file(job=job, fmt=request.query_params.get("format"))
        response = ranged_file_response(request._request, path, content_type, f"speaker-{job.pk}{path.suffix}")
        if content_type.startswith(audiomod.CONTENT_TYPES["pcm"]) and response.status_code < 300 and job.sample_rate:
            for name, value in audiomod.pcm_headers(job.sample_rate).items():
                response[name] = value
        return response


class JobTimingsView(APIView):
    required_scopes = SYNTHESIS_SCOPE

    @extend_schema(
        responses={
            200: TimingsSerializer,
            404: NOT_FOUND,
            409: error("Not completed yet", "conflict", "The job is running; word timings exist once it is completed."),
            **COMMON_ERRORS,
        },
        examples=[
            OpenApiExample(
                "piper",
                value={
                    "method": "exact",
                    "words": [
                        {"text": "Hello", "start": 0.05, "end": 0.38},
                        {"text": "there.", "start": 0.42, "end": 0.8},
                    ],
                },
                response_only=True,
            )
        ],
        tags=["synthesis"],
        summary="A job's word timings",
    )
    def get(self, request: Request, job_id: str) -> Response:
        return Response(TimingsSerializer(job_timings(job=owned_job(request, job_id)).to_dict()).data)


class JobCaptionsView(APIView):
    # Captions are plain text files: the client's Accept must not turn them into a 406,
    # and `?format=` names the caption format, not a DRF renderer.
    content_negotiation_class = AudioContentNegotiation
    required_scopes = SYNTHESIS_SCOPE

    @extend_schema(
        parameters=[OpenApiParameter("format", OpenApiTypes.STR, enum=list(CAPTION_FORMATS), required=True)],
        responses={
            (200, "application/x-subrip"): OpenApiResponse(OpenApiTypes.STR, description="SRT captions (format=srt)"),
            (200, "text/vtt"): OpenApiResponse(OpenApiTypes.STR, description="WebVTT captions (format=vtt)"),
            404: NOT_FOUND,
            409: error("Not completed yet", "conflict", "The job is running; word timings exist once it is completed."),
            **COMMON_ERRORS,
        },
        tags=["synthesis"],
        summary="A job's captions (SRT or WebVTT)",
        description="Cues of at most two lines of 42 characters, cut at sentence ends and then at clause "
        "punctuation, timed by the job's word timings.",
    )
    def get(self, request: Request, job_id: str) -> HttpResponse:
        captions = job_captions(job=owned_job(request, job_id), fmt=request.query_params.get("format"))
        response = HttpResponse(captions.body, content_type=captions.content_type)
        response["Content-Disposition"] = f'attachment; filename="{captions.filename}"'
        return response


def _start_stream(request: Request, start: Callable[..., HttpResponse]) -> HttpResponse:
    """Both stream endpoints read the same body; `start` is the service that answers."""
    serializer = StreamCreateSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return start(
        user=request.user,
        req=job_request_from(serializer.validated_data),
        api_key=request.auth if isinstance(request.auth, APIKey) else None,
    )


class JobStreamView(APIView):
    """Chunked audio while the engine speaks; the job is kept in history."""

    required_scopes = SYNTHESIS_SCOPE

    @extend_schema(
        request=StreamCreateSerializer,
        responses={
            **audio_responses(
                audiomod.STREAM_FORMATS,
                "Chunked audio as it is made: wav has a streaming header (unknown length). "
                "The job id is in X-Job-ID, the sample rate in X-Sample-Rate",
            ),
            404: error("Unknown voice", "not_found", "Not found."),
            409: error("Voice not ready or engine missing", "conflict"),
            503: error("MAX_CONCURRENT_REQUESTS reached", "service_unavailable", "The server is busy."),
            **COMMON_ERRORS,
        },
        examples=[
            OpenApiExample("stream pcm", value={"text": "Hello!", "voice": "joe", "format": "pcm"}, request_only=True)
        ],
        tags=["synthesis"],
        summary="Stream speech as it is generated",
    )
    def post(self, request: Request) -> HttpResponse:
        return _start_stream(request, stream_start)


class JobStreamTimingsView(APIView):
    """The stream endpoint's NDJSON variant: audio and word timings on one response."""

    required_scopes = SYNTHESIS_SCOPE
    # The body is NDJSON whatever the client's Accept says; errors stay the JSON body.
    content_negotiation_class = AudioContentNegotiation

    @extend_schema(
        request=StreamCreateSerializer,
        responses={
            (200, NDJSON_CONTENT_TYPE): OpenApiResponse(
                OpenApiTypes.STR,
                description="Newline-delimited JSON, one object per line, as the engine speaks: "
                '{"type": "audio", "audio_base64": …} (the next bytes of the audio in `format`; '
                "decoded and joined they are the whole file), "
                '{"type": "words", "method": "exact"|"estimated", "words": [{"text", "start", "end"}, …]} '
                "(seconds from the start of the audio, after each sentence's audio), and last "
                '{"type": "end"} or {"type": "error", "message": …}. The job id is in X-Job-ID, '
                "the sample rate in X-Sample-Rate",
            ),
            404: error("Unknown voice", "not_found", "Not found."),
            409: error("Voice not ready or engine missing", "conflict"),
            503: error("MAX_CONCURRENT_REQUESTS reached", "service_unavailable", "The server is busy."),
            **COMMON_ERRORS,
        },
        examples=[
            OpenApiExample(
                "pcm with timings", value={"text": "Hello!", "voice": "joe", "format": "pcm"}, request_only=True
            )
        ],
        tags=["synthesis"],
        summary="Stream speech with word timings (NDJSON)",
    )
    def post(self, request: Request) -> HttpResponse:
        return _start_stream(request, stream_start_with_timings)


class JobBulkDeleteView(APIView):
    required_scopes = SYNTHESIS_SCOPE

    @extend_schema(
        request=BulkDeleteSerializer,
        responses={200: BulkDeletedSerializer, **COMMON_ERRORS},
        examples=[
            OpenApiExample("two jobs", value={"ids": ["3fa85f64-5717-4562-b3fc-2c963f66afa6"]}, request_only=True)
        ],
        tags=["synthesis"],
    )
    def post(self, request: Request) -> Response:
        serializer = BulkDeleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response({"deleted": jobs_bulk_delete(user=request.user, ids=serializer.validated_data["ids"])})


class UsageView(APIView):
    required_scopes = {"GET": {"synthesis:write"}}

    @extend_schema(
        parameters=[
            date_parameter("from", "ISO date or datetime, inclusive"),
            date_parameter("to", "ISO date or datetime; a bare date includes that day"),
            OpenApiParameter("group_by", OpenApiTypes.STR, enum=["day", "key", "voice"]),
        ],
        responses={200: UsageSerializer, **COMMON_ERRORS},
        examples=[
            OpenApiExample(
                "by day",
                value={
                    "group_by": "day",
                    "totals": {"characters": 120, "words": 20, "audio_seconds": 8.1, "jobs": 2, "failures": 0},
                    "groups": [
                        {
                            "key": "2026-11-25",
                            "characters": 120,
                            "words": 20,
                            "audio_seconds": 8.1,
                            "jobs": 2,
                            "failures": 0,
                        }
                    ],
                    "quota": {
                        "limit": 1000000,
                        "used": 120,
                        "remaining": 999880,
                        "resets_at": "2026-12-01T00:00:00+00:00",
                    },
                },
                response_only=True,
            )
        ],
        tags=["usage"],
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        summary = usage_summary(
            user=request.user,
            start=parse_when(params.get("from"), "from"),
            stop=parse_when(params.get("to"), "to", end=True),
            group_by=params.get("group_by", "day"),
        )
        state = quota_state(user=request.user)
        summary["quota"] = {
            "limit": state.limit,
            "used": state.used + state.reserved,
            "remaining": state.remaining,
            "resets_at": state.resets_at.isoformat(),
        }
        return Response(summary)
