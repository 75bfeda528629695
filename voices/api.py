"""Voice endpoints (thin: validate, call one service, serialise)."""

from __future__ import annotations

import re
from typing import Any

from django.http import FileResponse, Http404, HttpRequest
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.negotiation import AudioContentNegotiation
from core.openapi import COMMON_ERRORS, PAGE_404, error
from core.parsers import JSONParser
from voices import selectors, services
from voices.audio_validation import SampleSizeLimitUploadHandler
from voices.models import CloningAttestation
from voices.serializers import (
    CloningAttestationAcceptSerializer,
    CloningAttestationSerializer,
    LanguagesSerializer,
    SampleAddSerializer,
    VoiceBlendSerializer,
    VoiceCreateSerializer,
    VoiceSerializer,
    VoiceUpdateSerializer,
)
from voices.services.attestation import attestation_accept, attestation_current, attestation_revoke
from voices.services.blends import BlendSource, voice_blend_create

VOICES_SCOPES = {
    "GET": {"voices:read"},
    "HEAD": {"voices:read"},
    "OPTIONS": {"voices:read"},
    "POST": {"voices:write"},
    "PATCH": {"voices:write"},
    "PUT": {"voices:write"},
    "DELETE": {"voices:write"},
}
TAGS = ["voices"]

NOT_FOUND = error("Unknown voice or sample, or another user's", "not_found", "Not found.")
BUILTIN_403 = error(
    "Built-in voices cannot be changed or deleted", "permission_denied", "Built-in voices cannot be changed or deleted."
)
CONSENT_400 = OpenApiResponse(
    response=COMMON_ERRORS[400].response,
    description="Invalid input, e.g. consent missing, unknown language or emotion",
    examples=[
        OpenApiExample(
            "consent missing",
            value={
                "error": {
                    "code": "validation_error",
                    "message": "Invalid input.",
                    "details": {
                        "consent": [
                            "consent=true is required: attest that the person whose voice is in the samples "
                            "agreed to have it recorded and cloned."
                        ]
                    },
                }
            },
        )
    ],
)
UPLOAD_ERRORS = {
    400: CONSENT_400,
    413: error(
        "A sample is larger than VOICE_SAMPLE_MAX_BYTES",
        "payload_too_large",
        "Each sample may be at most 10485760 bytes (10.0 MiB).",
    ),
    415: error(
        "A sample is not WAV, FLAC, OGG Vorbis/Opus, MP3 or WebM/Opus (decided by content)",
        "unsupported_media_type",
        "The sample is not audio in a supported format; upload WAV, FLAC, OGG (Vorbis or Opus), MP3, or WebM/Opus.",
    ),
    422: error(
        "A sample is too short, too long, broken or mostly silent; or the emotion labels do not match the "
        "samples in number",
        "unprocessable",
        "The sample is 1.4 s long; samples must be 3-30 s.",
    ),
}
VOICE_EXAMPLE = OpenApiExample(
    "cloned voice, waiting for the engine",
    value={
        "id": "5b0f4c9e-8d5e-4a8e-9c64-0f0e7d1c2a11",
        "name": "Grandma",
        "description": "Reading bedtime stories",
        "language": "en",
        "languages": [
            "en",
            "es",
            "fr",
            "de",
            "it",
            "pt",
            "pl",
            "tr",
            "ru",
            "nl",
            "cs",
            "ar",
            "zh-cn",
            "ja",
            "hu",
            "ko",
            "hi",
        ],
        "engine": "xtts",
        "is_builtin": False,
        "builtin_key": None,
        "status": "pending_engine",
        "status_message": (
            "Voice cloning needs the xtts engine, which is not available here: no XTTS v2 checkpoint: "
            "set XTTS_MODEL_DIR ..."
        ),
        "samples": [
            {
                "id": "0e2c8c7b-2a53-4c43-9a55-5d0a1c9a3f10",
                "emotion": "neutral",
                "duration_seconds": 7.69,
                "speech_seconds": 6.77,
                "sample_rate": 24000,
                "sha256": "9f2c…",
                "original_format": "webm/opus",
                "original_name": "recording.webm",
                "size_bytes": 59632,
                "created_at": "2026-11-25T20:30:00Z",
                "audio_url": (
                    "/api/v1/voices/5b0f4c9e-8d5e-4a8e-9c64-0f0e7d1c2a11"
                    "/samples/0e2c8c7b-2a53-4c43-9a55-5d0a1c9a3f10/audio"
                ),
            }
        ],
        "conditioned_at": None,
        "created_at": "2026-11-25T20:30:00Z",
        "updated_at": "2026-11-25T20:30:00Z",
    },
    response_only=True,
)


class SampleUploadMixin:
    """Caps each uploaded file while the multipart body is parsed (413 as soon as a
    file passes VOICE_SAMPLE_MAX_BYTES), before anything else reads the body."""

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        if request.method == "POST":
            request.upload_handlers = [SampleSizeLimitUploadHandler(request), *request.upload_handlers]
        return super().initialize_request(request, *args, **kwargs)  # type: ignore[misc]


class VoiceListCreateView(SampleUploadMixin, ListAPIView):
    required_scopes = VOICES_SCOPES
    serializer_class = VoiceSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.voice_list(
            user=self.request.user,
            language=self.request.query_params.get("language"),
            engine=self.request.query_params.get("engine"),
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "language", OpenApiTypes.STR, description="Only voices whose primary language is this code"
            ),
            OpenApiParameter("engine", OpenApiTypes.STR, description="Only voices of this engine (piper, xtts)"),
        ],
        responses={200: VoiceSerializer(many=True), 404: PAGE_404, **COMMON_ERRORS},
        examples=[VOICE_EXAMPLE],
        tags=TAGS,
        summary="List built-in voices and your own",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # A read: the built-in voices were synced when this process started.
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request={"multipart/form-data": VoiceCreateSerializer},
        responses={
            201: VoiceSerializer,
            409: error(
                "You already have a voice with this name", "conflict", "You already have a voice named 'Grandma'."
            ),
            **COMMON_ERRORS,
            **UPLOAD_ERRORS,
        },
        examples=[
            OpenApiExample(
                "clone from one sample",
                value={
                    "name": "Grandma",
                    "language": "en",
                    "description": "Reading bedtime stories",
                    "samples": ["(binary)"],
                    "emotions": ["neutral"],
                    "consent": True,
                },
                request_only=True,
            ),
            VOICE_EXAMPLE,
        ],
        tags=TAGS,
        summary="Clone a voice from consented samples",
        description="Multipart form. The voice comes back `processing` (the engine worker computes its "
        "conditioning, then it becomes `ready` and a `voice.ready` event is sent) or `pending_engine` when "
        "no cloning engine can run on this server. More samples than VOICE_MAX_SAMPLES in one request: 400.",
    )
    def post(self, request: Request) -> Response:
        serializer = VoiceCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        voice = services.voice_create(
            user=request.user,
            name=data["name"],
            language=data["language"],
            description=data.get("description", ""),
            samples=data["samples"],
            emotions=data.get("emotions"),
            consent=data["consent"],
        )
        return Response(VoiceSerializer(voice).data, status=status.HTTP_201_CREATED)


class VoiceBlendView(APIView):
    required_scopes = VOICES_SCOPES
    parser_classes = [JSONParser]

    @extend_schema(
        request=VoiceBlendSerializer,
        responses={
            201: VoiceSerializer,
            404: error(
                "A source is not one of your voices nor a built-in one", "voice_not_found", "There is no voice ..."
            ),
            409: error(
                "A source is not ready, the name is taken, or no cloning engine runs here",
                "conflict",
                "You already have a voice named 'Duet'.",
            ),
            **COMMON_ERRORS,
        },
        examples=[
            OpenApiExample(
                "two of your voices, mostly the first",
                value={
                    "name": "Duet",
                    "sources": [
                        {"voice": "Grandma", "weight": 0.7},
                        {"voice": "5b0f4c9e-8d5e-4a8e-9c64-0f0e7d1c2a11", "weight": 0.3},
                    ],
                },
                request_only=True,
            )
        ],
        tags=TAGS,
        summary="Blend 2-4 XTTS voices into a new voice",
        description="The new voice's conditioning is the weighted combination of its sources' (docs/voice-cloning.md, "
        '"Blended voices"); it is `ready` at once, keeps working when a source is deleted, lists its sources in '
        "`blended_from`, and its consent record names each source and its consent records.",
    )
    def post(self, request: Request) -> Response:
        serializer = VoiceBlendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        voice = voice_blend_create(
            user=request.user,
            name=data["name"],
            description=data.get("description", ""),
            language=data.get("language"),
            sources=[BlendSource(voice=s["voice"], weight=s["weight"]) for s in data["sources"]],
        )
        return Response(VoiceSerializer(voice).data, status=status.HTTP_201_CREATED)


class VoiceDetailView(APIView):
    required_scopes = VOICES_SCOPES
    # JSON only: `settings` is an object, which a form cannot carry.
    parser_classes = [JSONParser]

    @extend_schema(
        responses={200: VoiceSerializer, 404: NOT_FOUND, **COMMON_ERRORS},
        examples=[VOICE_EXAMPLE],
        tags=TAGS,
        summary="A voice",
    )
    def get(self, request: Request, voice_id: str) -> Response:
        voice = selectors.voice_get_visible(user=request.user, voice_id=voice_id)
        return Response(VoiceSerializer(voice).data)

    @extend_schema(
        request=VoiceUpdateSerializer,
        responses={
            200: VoiceSerializer,
            403: BUILTIN_403,
            404: NOT_FOUND,
            409: error("Name taken", "conflict"),
            **COMMON_ERRORS,
        },
        examples=[OpenApiExample("rename", value={"name": "Grandma (2024)"}, request_only=True)],
        tags=TAGS,
        summary="Rename or describe your voice, or change its primary language",
    )
    def patch(self, request: Request, voice_id: str) -> Response:
        voice = selectors.voice_get_visible(user=request.user, voice_id=voice_id)
        serializer = VoiceUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        voice = services.voice_update(voice=voice, **serializer.validated_data)
        return Response(VoiceSerializer(voice).data)

    @extend_schema(
        responses={204: None, 403: BUILTIN_403, 404: NOT_FOUND, **COMMON_ERRORS},
        tags=TAGS,
        summary="Delete your voice and its sample files",
    )
    def delete(self, request: Request, voice_id: str) -> Response:
        voice = selectors.voice_get_visible(user=request.user, voice_id=voice_id)
        services.voice_delete(voice=voice)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VoiceSamplesView(SampleUploadMixin, APIView):
    required_scopes = VOICES_SCOPES
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": SampleAddSerializer},
        responses={
            201: VoiceSerializer,
            403: BUILTIN_403,
            404: NOT_FOUND,
            409: error(
                "The voice would exceed VOICE_MAX_SAMPLES, or the sample is already there",
                "conflict",
                "A voice may have at most 10 samples; this one has 10 and 1 more were sent.",
            ),
            **COMMON_ERRORS,
            **UPLOAD_ERRORS,
        },
        examples=[VOICE_EXAMPLE],
        tags=TAGS,
        summary="Add consented samples to your voice",
        description="The voice is prepared again (`processing`, or `pending_engine`). Answers the voice.",
    )
    def post(self, request: Request, voice_id: str) -> Response:
        voice = selectors.voice_get_visible(user=request.user, voice_id=voice_id)
        serializer = SampleAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.voice_samples_add(
            voice=voice, samples=data["samples"], emotions=data.get("emotions"), consent=data["consent"]
        )
        voice = selectors.voice_get_owned(user=request.user, voice_id=voice_id)
        return Response(VoiceSerializer(voice).data, status=status.HTTP_201_CREATED)


class VoiceSampleDetailView(APIView):
    required_scopes = VOICES_SCOPES

    @extend_schema(
        responses={
            204: None,
            404: NOT_FOUND,
            409: error(
                "The voice's only sample",
                "conflict",
                "This is the voice's only sample; delete the voice instead, or add another sample first.",
            ),
            **COMMON_ERRORS,
        },
        tags=TAGS,
        summary="Delete a sample and its file",
    )
    def delete(self, request: Request, voice_id: str, sample_id: str) -> Response:
        sample = selectors.sample_get_owned(user=request.user, voice_id=voice_id, sample_id=sample_id)
        services.voice_sample_delete(sample=sample)
        return Response(status=status.HTTP_204_NO_CONTENT)


_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


class VoiceSampleAudioView(APIView):
    content_negotiation_class = AudioContentNegotiation
    required_scopes = VOICES_SCOPES

    @extend_schema(
        responses={
            (200, "audio/wav"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The stored sample: mono 16-bit PCM WAV"
            ),
            404: NOT_FOUND,
            **COMMON_ERRORS,
        },
        tags=TAGS,
        summary="Download a sample as stored (owner only)",
    )
    def get(self, request: Request, voice_id: str, sample_id: str) -> FileResponse:
        sample = selectors.sample_get_owned(user=request.user, voice_id=voice_id, sample_id=sample_id)
        try:
            handle = open(sample.path, "rb")
        except (OSError, ValueError):
            raise Http404 from None
        stem = _UNSAFE_FILENAME.sub("-", sample.voice.name).strip("-.")[:60] or "voice"
        return FileResponse(
            handle,
            as_attachment=True,
            filename=f"{stem}-{str(sample.pk)[:8]}.wav",
            content_type="audio/wav",
        )


class LanguagesView(APIView):
    required_scopes = {"GET": {"voices:read"}}
    # Open to anonymous callers when API_KEY_REQUIRED is false (see HasScopes).
    public_metadata = True

    @extend_schema(
        responses={200: LanguagesSerializer, **COMMON_ERRORS},
        examples=[
            OpenApiExample(
                "piper only",
                value={
                    "engines": [
                        {"name": "piper", "available": True, "reason": None, "languages": ["en"], "clones": False},
                        {
                            "name": "xtts",
                            "available": False,
                            "reason": "no XTTS v2 checkpoint: set XTTS_MODEL_DIR ...",
                            "languages": ["en", "es", "fr"],
                            "clones": True,
                        },
                    ],
                    "clone_languages": ["en", "es", "fr"],
                },
                response_only=True,
            )
        ],
        tags=TAGS,
        summary="Languages per engine, with each engine's availability",
    )
    def get(self, request: Request) -> Response:
        return Response({"engines": selectors.engine_languages(), "clone_languages": list(selectors.clone_languages())})


ATTESTATION_SCOPES = {"GET": {"voices:read"}, "POST": {"voices:write"}, "DELETE": {"voices:write"}}


class CloningAttestationView(APIView):
    """The account's standing cloning attestation: what cloning through APIs without a
    consent field (the ElevenLabs-compatible POST /v1/voices/add) requires."""

    required_scopes = ATTESTATION_SCOPES

    @extend_schema(
        responses={200: CloningAttestationSerializer, **COMMON_ERRORS},
        tags=TAGS,
        summary="Your cloning attestation, and its statement",
    )
    def get(self, request: Request) -> Response:
        return Response(
            CloningAttestationSerializer(CloningAttestationSerializer.of(attestation_current(user=request.user))).data
        )

    @extend_schema(
        request=CloningAttestationAcceptSerializer,
        responses={200: CloningAttestationSerializer, 201: CloningAttestationSerializer, **COMMON_ERRORS},
        examples=[OpenApiExample("accept", value={"accept": True}, request_only=True)],
        tags=TAGS,
        summary="Accept the cloning attestation (201; 200 when one is already in force, its date unchanged)",
    )
    def post(self, request: Request) -> Response:
        serializer = CloningAttestationAcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        before = attestation_current(user=request.user)
        record = attestation_accept(user=request.user, via=CloningAttestation.Via.API)
        body = CloningAttestationSerializer(CloningAttestationSerializer.of(record)).data
        return Response(body, status=status.HTTP_200_OK if before is not None else status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, **COMMON_ERRORS}, tags=TAGS, summary="Withdraw your cloning attestation")
    def delete(self, request: Request) -> Response:
        attestation_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
