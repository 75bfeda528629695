"""OpenAI-compatible `POST /v1/audio/speech`, so that the official `openai` client (and
the many tools built on it) work against Speaker unchanged. Errors here use OpenAI's
shape (`{"error": {"message", "type", "param", "code"}}`), not Speaker's."""

from __future__ import annotations

from typing import Any

import numpy as np
from asgiref.sync import async_to_sync
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.views import APIView

from accounts.authentication import api_key_for_request, raw_key_from_headers
from speaker_site.errors import ApiError
from speaker_site.negotiation import AudioContentNegotiation
from speaker_site.parsers import InvalidJSON, loads_request_json
from synthesis import audio as audiomod
from synthesis import text as textmod
from synthesis.engines.errors import EngineError, EngineUnavailable, InvalidParams
from synthesis.engines.registry import get_registry
from synthesis.openai_errors import openai_error
from synthesis.services import JobRequest
from synthesis.stream_service import add_quota_headers, encoded_stream, stream_job_create
from synthesis.streaming import StreamFailed, job_chunks, limiter

# OpenAI format -> (our encoder format, content type, streamable)
FORMATS: dict[str, tuple[str, str, bool]] = {
    "mp3": ("mp3", "audio/mpeg", True),
    "wav": ("wav", "audio/wav", True),
    "pcm": ("pcm", "audio/pcm", False),  # OpenAI's pcm is 24 kHz s16le: resampled, so collected
    "flac": ("flac", "audio/flac", False),
    "opus": ("opus", "audio/ogg", False),
}
OPENAI_PCM_RATE = 24_000


def _model_engine(model: str) -> str | None:
    registry = get_registry()
    if model == "tts-1":
        return registry.config.default_engine
    if model == "tts-1-hd":
        cloning = registry.cloning_engine()
        return cloning.name if cloning is not None else registry.config.default_engine
    return None


def _emotion_from(instructions: str | None) -> str | None:
    if not instructions:
        return None
    words = {w.strip(".,!?;:()\"'").lower() for w in instructions.split()}
    for emotion in textmod.EMOTIONS:
        if emotion in words:
            return emotion
    return None


OpenAISpeechRequest = inline_serializer(
    name="OpenAISpeechRequest",
    fields={
        "model": serializers.ChoiceField(choices=["tts-1", "tts-1-hd"]),
        "input": serializers.CharField(),
        "voice": serializers.CharField(help_text="A built-in voice name, or the id or name of one of your voices"),
        "response_format": serializers.ChoiceField(choices=[*FORMATS, "aac"], default="mp3", help_text="aac is refused"),
        "speed": serializers.FloatField(min_value=0.25, max_value=4.0, default=1.0),
        "instructions": serializers.CharField(required=False, help_text="An emotion word in it picks that emotion"),
    },
)
OpenAIError = inline_serializer(
    name="OpenAIError",
    fields={
        "error": inline_serializer(
            name="OpenAIErrorDetail",
            fields={
                "message": serializers.CharField(),
                "type": serializers.CharField(),
                "param": serializers.CharField(allow_null=True),
                "code": serializers.CharField(allow_null=True),
            },
        )
    },
)


class SpeechView(APIView):
    """OpenAI-compatible speech. Authentication, parsing and errors are done here in
    OpenAI's way (not DRF's), so the official client's typed errors work."""

    authentication_classes: list = []
    permission_classes: list = []
    parser_classes: list = []
    content_negotiation_class = AudioContentNegotiation

    @extend_schema(
        request={"application/json": OpenAISpeechRequest},  # parsed by hand (parser_classes is empty)
        responses={
            (200, "audio/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The audio; X-Job-ID names the job in history"),
            400: OpenApiResponse(OpenAIError, description="OpenAI-shaped error"),
            401: OpenApiResponse(OpenAIError, description="Missing or wrong API key"),
            404: OpenApiResponse(OpenAIError, description="Unknown voice"),
        },
        examples=[
            OpenApiExample("mp3", value={"model": "tts-1", "input": "Hello!", "voice": "joe", "response_format": "mp3"}, request_only=True)
        ],
        tags=["openai"],
        summary="OpenAI-compatible text to speech",
        auth=[{"ApiKeyBearer": []}],
    )
    def post(self, request: Any) -> HttpResponse:
        return speech(request._request)


@csrf_exempt
@require_POST
def speech(request: HttpRequest) -> HttpResponse:
    if raw_key_from_headers(request.headers) is None:
        return openai_error(401, "You didn't provide an API key (Authorization: Bearer spk_...).", "invalid_api_key")
    api_key = api_key_for_request(request)
    if api_key is None:
        return openai_error(401, "Incorrect API key provided.", "invalid_api_key")
    if "synthesis:write" not in api_key.scopes:
        return openai_error(403, "This API key lacks the synthesis:write scope.", "insufficient_scope")
    try:
        # The shared reader: deep nesting, NUL and out-of-range numbers are a 400 here too.
        body = loads_request_json(request.body or b"{}")
    except InvalidJSON as exc:
        return openai_error(400, str(exc), "invalid_json")
    if not isinstance(body, dict):
        return openai_error(400, "The request body must be a JSON object.", "invalid_json")
    try:
        return _speech(request, api_key, body)
    except _BadField as exc:
        return openai_error(400, exc.message, "invalid_value", exc.param)
    except Http404:
        return openai_error(404, f"Voice {body.get('voice')!r} was not found.", "voice_not_found", "voice")
    except EngineUnavailable as exc:
        return openai_error(409, exc.message, "engine_unavailable")
    except EngineError as exc:
        return openai_error(400, exc.message, exc.code, getattr(exc, "field", None))
    except ApiError as exc:
        return openai_error(exc.status_code, exc.message, exc.code)


class _BadField(Exception):
    def __init__(self, message: str, param: str) -> None:
        self.message, self.param = message, param


def _speech(request: HttpRequest, api_key: Any, body: dict[str, Any]) -> HttpResponse:
    model = body.get("model")
    text = body.get("input")
    voice = body.get("voice")
    fmt = body.get("response_format", "mp3")
    speed = body.get("speed", 1.0)
    if not isinstance(model, str) or _model_engine(model) is None:
        raise _BadField("model must be tts-1 or tts-1-hd.", "model")
    if not isinstance(text, str) or not text.strip():
        raise _BadField("input is required.", "input")
    if not isinstance(voice, str) or not voice:
        raise _BadField("voice is required.", "voice")
    if fmt == "aac":
        raise _BadField("aac is not supported here (no well-kept AAC encoder is bundled); use mp3, opus, flac, wav or pcm.", "response_format")
    if fmt not in FORMATS:
        raise _BadField(f"response_format must be one of {', '.join(FORMATS)}.", "response_format")
    if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not 0.25 <= float(speed) <= 4.0:
        raise _BadField("speed must be a number from 0.25 to 4.0.", "speed")
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise _BadField("instructions must be a string.", "instructions")
    params: dict[str, Any] = {"speed": float(speed)}
    emotion = _emotion_from(instructions)
    if emotion:
        params["emotion"] = emotion
    req = JobRequest(text=text, voice=voice, language=None, output_format="wav", params=params)
    try:
        job = stream_job_create(user=api_key.user, req=req, api_key=api_key, request=request)
    except InvalidParams as exc:
        raise _BadField(exc.message, exc.field) from exc
    ours, content_type, streamable = FORMATS[fmt]
    if streamable:
        response: HttpResponse = StreamingHttpResponse(encoded_stream(job, ours), content_type=content_type)
    else:
        response = HttpResponse(_collect(job, fmt), content_type=content_type)
    response["X-Job-ID"] = str(job.pk)
    add_quota_headers(response, api_key.user)
    return response


def _collect(job: Any, fmt: str) -> bytes:
    async def gather() -> tuple[list[np.ndarray], int]:
        chunks: list[np.ndarray] = []
        rate = 0
        async for chunk, rate in job_chunks(job):
            chunks.append(chunk)
        return chunks, rate

    try:
        chunks, rate = async_to_sync(gather)()
    except StreamFailed as exc:
        raise ApiError(f"Generation failed: {exc}", code="generation_failed", status_code=500) from exc
    finally:
        limiter.release()
    pcm = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    if fmt == "pcm":
        return audiomod.to_s16le(audiomod.resample(pcm, rate, OPENAI_PCM_RATE))
    if fmt == "opus":
        return _encode_opus(pcm, rate)
    return audiomod.encode(pcm, rate, fmt)


def _encode_opus(pcm: np.ndarray, rate: int) -> bytes:
    """Ogg/Opus (what OpenAI's `opus` is); Opus only takes 8/12/16/24/48 kHz."""
    import io

    import soundfile

    audio = audiomod.resample(pcm, rate, OPENAI_PCM_RATE) if rate != OPENAI_PCM_RATE else pcm
    buffer = io.BytesIO()
    with soundfile.SoundFile(buffer, mode="w", samplerate=OPENAI_PCM_RATE, channels=1, format="OGG", subtype="OPUS") as out:
        out.write(np.clip(audio, -1.0, 1.0))
    return buffer.getvalue()
