"""Long-form production endpoints (thin: validate, call one service, serialise)."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import APIKey
from core.errors import ApiError
from core.negotiation import AudioContentNegotiation
from core.openapi import COMMON_ERRORS, PAGE_404, error
from core.pagination import PageNumberPagination
from core.parsers import JSONParser
from productions import assembly as assemblymod
from productions.downloads import production_audio_file, production_file_stem
from productions.selectors import (
    chapter_list,
    production_caption_cues,
    production_get_owned,
    production_list,
    segment_get,
    segment_list,
)
from productions.serializers import (
    FORMAT_CHOICES,
    ChapterSerializer,
    ProductionCreateSerializer,
    ProductionSerializer,
    ProductionTextSerializer,
    ProductionUploadSerializer,
    SegmentRegenerateSerializer,
    SegmentSerializer,
)
from productions.services import (
    ProductionRequest,
    production_cancel,
    production_create,
    production_delete,
    production_pause,
    production_resume,
    production_segment_regenerate,
)
from synthesis.api import dictionary_locators
from synthesis.downloads import job_audio_file, ranged_file_response
from synthesis.openapi_audio import audio_responses

SCOPE = {"*": {"synthesis:write"}}
TAGS = ["productions"]
NOT_FOUND = error("Unknown production, or another user's", "not_found", "Not found.")
CONFLICT = error(
    "Not in a state that allows this", "conflict", "Only a running production can be paused; this one is completed."
)
FORMAT_PARAMETER = OpenApiParameter(
    "format", OpenApiTypes.STR, enum=FORMAT_CHOICES, required=False, description="Default mp3."
)
AUDIO_TYPES = {fmt: assemblymod.CONTENT_TYPES[fmt] for fmt in assemblymod.FORMATS}

CREATE_EXAMPLE = OpenApiExample(
    "two chapters, two voices",
    value={
        "title": "A short book",
        "voice": "joe",
        "text": (
            "# Chapter one\nIt was a bright cold day in April. (happy) The clocks were striking.\n\n"
            "# Chapter two\nThe end."
        ),
    },
    request_only=True,
)


def _audio_responses(description: str) -> dict:
    return audio_responses(assemblymod.FORMATS, description, content_types=AUDIO_TYPES)


class ProductionListCreateView(APIView):
    required_scopes = SCOPE
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    pagination_class = PageNumberPagination

    @extend_schema(
        responses={200: ProductionSerializer(many=True), 404: PAGE_404, **COMMON_ERRORS},
        tags=TAGS,
        summary="Your productions",
    )
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(production_list(user=request.user), request, view=self)
        return paginator.get_paginated_response(ProductionSerializer(page, many=True).data)

    @extend_schema(
        request={"application/json": ProductionTextSerializer, "multipart/form-data": ProductionUploadSerializer},
        responses={
            202: ProductionSerializer,
            404: error(
                "Unknown voice (the default or a [voice: Name] marker)",
                "voice_not_found",
                "There is no voice named 'bob'.",
            ),
            409: error("Voice not ready or engine missing", "conflict"),
            413: error(
                "Upload too large, or more segments or chapters than a production takes",
                "payload_too_large",
                "The text makes more than 2000 segments; a production takes at most 2000 (LONGFORM_MAX_SEGMENTS).",
            ),
            415: error("The upload is not a UTF-8 .txt or .md file", "unsupported_media_type"),
            422: error("The uploaded file is empty", "unprocessable", "The file is empty: upload the text to speak."),
            **COMMON_ERRORS,
            429: error(
                "Monthly quota exceeded, or rate limited", "quota_exceeded", "Monthly character quota exceeded."
            ),
        },
        examples=[CREATE_EXAMPLE],
        tags=TAGS,
        summary="Create a long-form production",
    )
    def post(self, request: Request) -> Response:
        serializer = ProductionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data  # an uploaded file is read and checked into `text`
        production = production_create(
            user=request.user,
            req=ProductionRequest(
                text=data.get("text") or "",
                voice=data["voice"],
                title=data.get("title") or "",
                language=data.get("language") or None,
                params=data.get("params") or {},
                dictionaries=dictionary_locators(data.get("pronunciation_dictionary_locators")),
            ),
            api_key=request.auth if isinstance(request.auth, APIKey) else None,
        )
        return Response(ProductionSerializer(production).data, status=status.HTTP_202_ACCEPTED)


class ProductionDetailView(APIView):
    required_scopes = SCOPE

    @extend_schema(
        responses={200: ProductionSerializer, 404: NOT_FOUND, **COMMON_ERRORS},
        tags=TAGS,
        summary="One production: progress, chapters, links",
    )
    def get(self, request: Request, production_id: str) -> Response:
        return Response(ProductionSerializer(production_get_owned(user=request.user, production_id=production_id)).data)

    @extend_schema(
        responses={204: None, 404: NOT_FOUND, **COMMON_ERRORS}, tags=TAGS, summary="Delete a production and its audio"
    )
    def delete(self, request: Request, production_id: str) -> Response:
        production_delete(production=production_get_owned(user=request.user, production_id=production_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


def _control_view(service, summary: str):  # type: ignore[no-untyped-def]
    class _View(APIView):
        required_scopes = SCOPE

        @extend_schema(
            request=None,
            responses={200: ProductionSerializer, 404: NOT_FOUND, 409: CONFLICT, **COMMON_ERRORS},
            tags=TAGS,
            summary=summary,
        )
        def post(self, request: Request, production_id: str) -> Response:
            production = production_get_owned(user=request.user, production_id=production_id)
            return Response(ProductionSerializer(service(production=production)).data)

    _View.__name__ = _View.__qualname__ = f"Production{summary.split()[0]}View"
    return _View


ProductionPauseView = _control_view(production_pause, "Pause: withdraw the queued segments")
ProductionResumeView = _control_view(production_resume, "Resume: queue the unfinished segments again")
ProductionCancelView = _control_view(production_cancel, "Cancel for good (what was not spoken is refunded)")


class ChapterListView(APIView):
    required_scopes = SCOPE
    pagination_class = PageNumberPagination

    @extend_schema(
        responses={200: ChapterSerializer(many=True), 404: NOT_FOUND, **COMMON_ERRORS},
        tags=TAGS,
        summary="A production's chapters",
    )
    def get(self, request: Request, production_id: str) -> Response:
        production = production_get_owned(user=request.user, production_id=production_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(chapter_list(production=production), request, view=self)
        for chapter in page:
            chapter.production = production
        return paginator.get_paginated_response(ChapterSerializer(page, many=True).data)


class SegmentListView(APIView):
    required_scopes = SCOPE
    pagination_class = PageNumberPagination

    @extend_schema(
        responses={200: SegmentSerializer(many=True), 404: NOT_FOUND, **COMMON_ERRORS},
        tags=TAGS,
        summary="A production's segments",
    )
    def get(self, request: Request, production_id: str) -> Response:
        production = production_get_owned(user=request.user, production_id=production_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(segment_list(production=production), request, view=self)
        return paginator.get_paginated_response(SegmentSerializer(page, many=True).data)


class SegmentRegenerateView(APIView):
    required_scopes = SCOPE

    @extend_schema(
        request=SegmentRegenerateSerializer,
        responses={202: SegmentSerializer, 404: NOT_FOUND, 409: CONFLICT, **COMMON_ERRORS},
        examples=[
            OpenApiExample("edited text", value={"text": "The clocks were striking thirteen."}, request_only=True)
        ],
        tags=TAGS,
        summary="Regenerate one segment (a new seed, or edited text); the rest is kept",
    )
    def post(self, request: Request, production_id: str, index: int) -> Response:
        production = production_get_owned(user=request.user, production_id=production_id)
        segment = segment_get(production=production, index=index)
        serializer = SegmentRegenerateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        segment = production_segment_regenerate(
            production=production,
            segment=segment,
            text=serializer.validated_data.get("text"),
            seed=serializer.validated_data.get("seed"),
        )
        return Response(
            SegmentSerializer(segment_get(production=production, index=segment.index)).data,
            status=status.HTTP_202_ACCEPTED,
        )


class SegmentAudioView(APIView):
    content_negotiation_class = AudioContentNegotiation
    required_scopes = SCOPE

    @extend_schema(
        parameters=[OpenApiParameter("format", OpenApiTypes.STR, enum=["wav", "mp3", "ogg", "flac"], required=False)],
        responses={
            **audio_responses(
                ("wav", "mp3", "ogg", "flac"), "One segment's audio as spoken (before loudness levelling)"
            ),
            404: NOT_FOUND,
            409: error("Not spoken yet", "conflict"),
            **COMMON_ERRORS,
        },
        tags=TAGS,
        summary="Play one segment",
    )
    def get(self, request: Request, production_id: str, index: int) -> HttpResponse:
        production = production_get_owned(user=request.user, production_id=production_id)
        segment = segment_get(production=production, index=index)
        fmt = request.query_params.get("format", "wav")
        if segment.job is None or fmt == "pcm":
            raise ApiError(
                "This segment has not been spoken yet." if segment.job is None else "Choose wav, mp3, ogg or flac.",
                code="conflict" if segment.job is None else "validation_error",
                status_code=409 if segment.job is None else 400,
            )
        path, content_type = job_audio_file(job=segment.job, fmt=fmt)
        return ranged_file_response(
            request._request, path, content_type, f"{production_file_stem(production)}-segment-{index}{path.suffix}"
        )


class ProductionAudioView(APIView):
    content_negotiation_class = AudioContentNegotiation
    required_scopes = SCOPE

    @extend_schema(
        parameters=[FORMAT_PARAMETER],
        responses={
            **_audio_responses("The whole production, with chapter markers in mp3 (ID3 CHAP/CTOC), m4b, ogg and flac"),
            404: NOT_FOUND,
            409: error("Not completed yet", "conflict"),
            **COMMON_ERRORS,
        },
        tags=TAGS,
        summary="Download the whole production",
    )
    def get(self, request: Request, production_id: str) -> HttpResponse:
        production = production_get_owned(user=request.user, production_id=production_id)
        path, content_type, name = production_audio_file(production=production, fmt=request.query_params.get("format"))
        return ranged_file_response(request._request, path, content_type, name)


class ChapterAudioView(APIView):
    content_negotiation_class = AudioContentNegotiation
    required_scopes = SCOPE

    @extend_schema(
        parameters=[FORMAT_PARAMETER],
        responses={
            **_audio_responses("One chapter"),
            404: NOT_FOUND,
            409: error("Not completed yet", "conflict"),
            **COMMON_ERRORS,
        },
        tags=TAGS,
        summary="Download one chapter",
    )
    def get(self, request: Request, production_id: str, chapter: int) -> HttpResponse:
        production = production_get_owned(user=request.user, production_id=production_id)
        path, content_type, name = production_audio_file(
            production=production, fmt=request.query_params.get("format"), chapter=chapter
        )
        return ranged_file_response(request._request, path, content_type, name)


class CaptionsView(APIView):
    content_negotiation_class = AudioContentNegotiation
    required_scopes = SCOPE

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "format", OpenApiTypes.STR, enum=["srt", "vtt"], required=False, description="Default srt."
            )
        ],
        responses={
            (200, "application/x-subrip"): OpenApiResponse(
                OpenApiTypes.STR,
                description="SRT (or text/vtt for format=vtt): from word timings when every segment has "
                "them, else one cue per segment",
            ),
            (200, "text/vtt"): OpenApiResponse(OpenApiTypes.STR, description="WebVTT"),
            404: NOT_FOUND,
            409: error("Not completed yet", "conflict"),
            **COMMON_ERRORS,
        },
        tags=TAGS,
        summary="Captions for the whole production",
    )
    def get(self, request: Request, production_id: str) -> HttpResponse:
        production = production_get_owned(user=request.user, production_id=production_id)
        fmt = request.query_params.get("format", "srt")
        if fmt not in ("srt", "vtt"):
            raise ApiError(f"Unknown caption format {fmt!r}.", details={"format": ["Choose srt or vtt."]})
        if production.status != production.Status.COMPLETED:
            raise ApiError(
                f"The production is {production.status}; captions exist once it is completed.",
                code="conflict",
                status_code=409,
            )
        cues, source = production_caption_cues(production=production)
        response = HttpResponse(
            assemblymod.captions(cues=cues, fmt=fmt),
            content_type="text/vtt; charset=utf-8" if fmt == "vtt" else "application/x-subrip; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{production_file_stem(production)}.{fmt}"'
        response["X-Captions-From"] = source
        return response
