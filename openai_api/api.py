"""OpenAI-compatible `POST /v1/audio/speech`, so that the official `openai` client (and
the many tools built on it) work against Speaker unchanged. Errors here use OpenAI's
shape (`{"error": {"message", "type", "param", "code"}}`), not Speaker's."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.views import APIView

from accounts.authentication import api_key_for_request, authorization_hint, raw_key_from_headers
from core.engines import get_registry
from core.errors import ApiError
from core.negotiation import AudioContentNegotiation
from core.parsers import InvalidJSON, loads_request_json
from core.serializers import unknown_fields
from openai_api.errors import openai_error
from openai_api.speech_options import (
    INSTRUCTED_MODEL,
    MAX_INSTRUCTIONS,
    MODEL_PATTERN,
    instructions_params,
    is_instructed_model,
)
from openai_api.sse import SSE_CONTENT_TYPE, sse_response
from speech.engines.errors import EngineError, EngineUnavailable, InvalidParams
from synthesis.openapi_audio import audio_responses
from synthesis.services import JobRequest
from synthesis.stream_service import add_quota_headers, stream_job_create, streaming_audio_response
from voices.models import Voice
from voices.selectors import VoiceNotFound, voice_not_found, voices_usable_names

OPENAI_PCM_RATE = 24_000
# OpenAI format -> (content type, or None for audio.content_type's; output rate, or None
# for the engine's). Every format streams: pcm and opus are resampled to 24 kHz as the
# chunks come (OpenAI's pcm is 24 kHz s16le; Opus takes only 8/12/16/24/48 kHz).
FORMATS: dict[str, tuple[str | None, int | None]] = {
    "mp3": (None, None),
    "wav": (None, None),
    "pcm": (None, OPENAI_PCM_RATE),
    "flac": (None, None),
    "opus": ("audio/ogg", OPENAI_PCM_RATE),
}


MODELS: tuple[str, ...] = ("tts-1", "tts-1-hd", INSTRUCTED_MODEL)
STREAM_FORMATS: tuple[str, ...] = ("audio", "sse")


def _model_engine(model: str) -> str | None:
    """The engine a model name stands for in /v1/models (a request's voice decides the
    engine it speaks with); None for a name that is not a model here."""
    registry = get_registry()
    if model == "tts-1":
        return registry.config.default_engine
    if model == "tts-1-hd" or is_instructed_model(model):
        cloning = registry.cloning_engine()
        return cloning.name if cloning is not None else registry.config.default_engine
    return None


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "minLength": 1},
            {
                "type": "object",
                "properties": {"id": {"type": "string", "minLength": 1}},
                "required": ["id"],
                "additionalProperties": False,
            },
        ]
    }
)
class VoiceField(serializers.JSONField):
    """A voice name, or OpenAI's voice object `{"id": …}`; never null (read by hand in the view)."""


OpenAISpeechRequest = inline_serializer(
    name="OpenAISpeechRequest",
    fields={
        "model": serializers.RegexField(
            MODEL_PATTERN,
            help_text="tts-1, tts-1-hd, gpt-4o-mini-tts or a dated gpt-4o-mini-tts-YYYY-MM-DD (a 400 otherwise)",
        ),
        "input": serializers.CharField(
            help_text="Text to speak: at least one letter or digit outside emotion tags (a 400 otherwise)."
        ),
        "voice": VoiceField(
            help_text='A voice name (OpenAI\'s names are aliases), or {"id": ...}: the id or name of any voice '
            "you can use"
        ),
        "response_format": serializers.ChoiceField(
            choices=list(FORMATS), default="mp3", help_text="OpenAI's aac is not among them: it is a 400 that says why."
        ),
        "speed": serializers.FloatField(min_value=0.25, max_value=4.0, default=1.0),
        "instructions": serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=MAX_INSTRUCTIONS,
            help_text="Emotion and pace words map to an emotion preset and speed; the whole text is kept on the job",
        ),
        "stream_format": serializers.ChoiceField(
            choices=list(STREAM_FORMATS),
            default="audio",
            help_text="sse: text/event-stream of speech.audio.delta events, then speech.audio.done with usage",
        ),
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
            **audio_responses(
                FORMATS,
                "The audio, streamed as it is made; X-Job-ID names the job in history",
                content_types={"opus": "audio/ogg"},
            ),
            (200, SSE_CONTENT_TYPE): OpenApiResponse(
                {
                    "type": "object",
                    "properties": {"event": {"type": "string"}, "data": {"type": "string"}},
                    "required": ["data"],
                },
                description="stream_format sse: speech.audio.delta events, then speech.audio.done with usage "
                "(docs/compatibility.md)",
            ),
            400: OpenApiResponse(OpenAIError, description="OpenAI-shaped error"),
            401: OpenApiResponse(OpenAIError, description="Missing or wrong API key"),
            404: OpenApiResponse(
                OpenAIError, description="Unknown voice (code voice_not_found; the message lists the usable ones)"
            ),
        },
        examples=[
            OpenApiExample(
                "mp3",
                value={"model": "tts-1", "input": "Hello!", "voice": "joe", "response_format": "mp3"},
                request_only=True,
            )
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
    api_key = _authenticate(request)
    if isinstance(api_key, JsonResponse):
        return api_key
    if "synthesis:write" not in api_key.scopes:
        return openai_error(403, "This API key lacks the synthesis:write scope.", "insufficient_scope")
    try:
        # The shared reader: deep nesting, NUL and out-of-range numbers are a 400 here too.
        body = loads_request_json(request.body or b"{}")
    except InvalidJSON as exc:
        return openai_error(400, str(exc), "invalid_json")
    if not isinstance(body, dict):
        return openai_error(400, "The request body must be a JSON object.", "invalid_json")
    unknown = unknown_fields(body, set(OpenAISpeechRequest.fields))
    if unknown:  # as OpenAI answers, and as the schema says (additionalProperties: false)
        return openai_error(400, unrecognized_argument(unknown), "unknown_parameter", unknown[0])
    try:
        return _speech(api_key, body)
    except _BadField as exc:
        return openai_error(400, exc.message, "invalid_value", exc.param)
    except VoiceNotFound as exc:
        return openai_error(404, exc.message, "voice_not_found", "voice")
    except EngineUnavailable as exc:
        return openai_error(409, exc.message, "engine_unavailable")
    except EngineError as exc:
        return openai_error(400, exc.message, exc.code, getattr(exc, "field", None))
    except ApiError as exc:
        return openai_error(exc.status_code, exc.message, exc.code)


def _authenticate(request: HttpRequest) -> Any:
    """The request's API key, or the OpenAI-shaped 401 to answer."""
    if raw_key_from_headers(request.headers) is None:
        hint = authorization_hint(request.headers)
        if hint is not None:
            return openai_error(401, hint, "invalid_api_key")
        return openai_error(401, "You didn't provide an API key (Authorization: Bearer spk_...).", "invalid_api_key")
    api_key = api_key_for_request(request)
    if api_key is None:
        return openai_error(401, "Incorrect API key provided.", "invalid_api_key")
    return api_key


def _resolve_voice(user: Any, voice: str) -> str:
    """The voice reference to synthesise with: the user's own voice of that name wins,
    then OpenAI's names through OPENAI_VOICE_ALIASES, then Speaker's usual lookup."""
    if Voice.objects.owned_by(user).filter(name__iexact=voice.strip()).exists():
        return voice
    return settings.OPENAI_VOICE_ALIASES.get(voice.strip().lower(), voice)


def unrecognized_argument(names: list[str]) -> str:
    """OpenAI's words for a field an operation does not take."""
    return f"Unrecognized request argument supplied: {', '.join(names)}"


class _BadField(Exception):
    def __init__(self, message: str, param: str) -> None:
        self.message, self.param = message, param


def _speech(api_key: Any, body: dict[str, Any]) -> HttpResponse:
    model = body.get("model")
    text = body.get("input")
    voice = body.get("voice")
    fmt = body.get("response_format", "mp3")
    speed = body.get("speed", 1.0)
    if not isinstance(model, str) or _model_engine(model) is None:
        raise _BadField("model must be tts-1, tts-1-hd or gpt-4o-mini-tts (dated variants too).", "model")
    if not isinstance(text, str) or not text.strip():
        raise _BadField("input is required.", "input")
    voice_by_id = isinstance(voice, dict)
    if voice_by_id:
        if set(voice) - {"id"} or not isinstance(voice.get("id"), str) or not voice["id"].strip():
            raise _BadField('voice must be a name or an object {"id": "<voice id>"}.', "voice")
        voice = voice["id"]
    if not isinstance(voice, str) or not voice:
        raise _BadField("voice is required.", "voice")
    stream_format = body.get("stream_format", "audio")
    if not isinstance(stream_format, str) or stream_format not in STREAM_FORMATS:
        raise _BadField("stream_format must be audio or sse.", "stream_format")
    if fmt == "aac":
        raise _BadField(
            "aac is not supported here (no well-kept AAC encoder is bundled); use mp3, opus, flac, wav or pcm.",
            "response_format",
        )
    # isinstance first: FORMATS is a dict, and `{} in FORMATS` raises (unhashable), a 500.
    if not isinstance(fmt, str) or fmt not in FORMATS:
        raise _BadField(f"response_format must be one of {', '.join(FORMATS)}.", "response_format")
    if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not 0.25 <= float(speed) <= 4.0:
        raise _BadField("speed must be a number from 0.25 to 4.0.", "speed")
    instructions = body.get("instructions")
    # null is refused like `speed: null`: the schema says string, and OpenAI's own client
    # leaves an unset field out rather than sending null.
    if "instructions" in body and not isinstance(instructions, str):
        raise _BadField("instructions must be a string; leave it out for none.", "instructions")
    if isinstance(instructions, str) and len(instructions) > MAX_INSTRUCTIONS:
        raise _BadField(f"instructions may be at most {MAX_INSTRUCTIONS} characters (as OpenAI's).", "instructions")
    # A speed the request leaves out is the voice's own (Voice.settings), not 1.0.
    params = instructions_params(instructions, speed=float(speed) if "speed" in body else None)
    # A voice object names a voice by id (or name), never an OpenAI alias.
    target = voice if voice_by_id else _resolve_voice(api_key.user, voice)
    req = JobRequest(
        text=text, voice=target, language=None, output_format="wav", params=params, instructions=instructions or ""
    )
    try:
        job = stream_job_create(user=api_key.user, req=req, api_key=api_key)
    except InvalidParams as exc:
        raise _BadField(exc.message, exc.field) from exc
    except VoiceNotFound as exc:
        if target != voice:
            raise VoiceNotFound(
                f"{voice!r} is an alias of {target!r} (OPENAI_VOICE_ALIASES), which is not a voice here. {exc.message}",
                details=exc.details,
            ) from exc
        raise voice_not_found(user=api_key.user, ref=voice, extra_names=list(settings.OPENAI_VOICE_ALIASES)) from exc
    content_type, target_rate = FORMATS[fmt]
    if stream_format == "sse":
        response = sse_response(job, fmt, target_rate=target_rate, text=text, instructions=instructions)
        add_quota_headers(response, api_key.user)
        return response
    response = streaming_audio_response(
        job,
        fmt,
        sample_rate=get_registry().engine(job.engine).sample_rate,
        content_type=content_type,
        target_rate=target_rate,
    )
    add_quota_headers(response, api_key.user)
    return response


# ------------------------------------------------------------------ voices and models


def _voice_entries(user: Any) -> list[dict[str, Any]]:
    """OpenAI's names first (those the user's own voices do not shadow), then every
    voice the user can use by its own name."""
    usable = voices_usable_names(user=user)
    shadowing = {name.lower() for name in Voice.objects.owned_by(user).values_list("name", flat=True)}
    aliases = [
        {"id": name, "object": "voice", "name": name, "alias_of": target}
        for name, target in sorted(settings.OPENAI_VOICE_ALIASES.items())
        if name not in shadowing
    ]
    taken = {entry["id"] for entry in aliases}
    return aliases + [
        {"id": name, "object": "voice", "name": name, "alias_of": None} for name in usable if name not in taken
    ]


def _listing_key(request: HttpRequest) -> Any:
    api_key = _authenticate(request)
    if isinstance(api_key, JsonResponse):
        return api_key
    if not {"synthesis:write", "voices:read"} & set(api_key.scopes):
        return openai_error(403, "This API key needs the synthesis:write or voices:read scope.", "insufficient_scope")
    return api_key


@require_GET
def voices(request: HttpRequest) -> HttpResponse:
    api_key = _listing_key(request)
    if isinstance(api_key, JsonResponse):
        return api_key
    entries = _voice_entries(api_key.user)
    return JsonResponse({"object": "list", "voices": [e["id"] for e in entries], "data": entries})


@require_GET
def models(request: HttpRequest) -> HttpResponse:
    api_key = _listing_key(request)
    if isinstance(api_key, JsonResponse):
        return api_key
    names = [e["id"] for e in _voice_entries(api_key.user)]
    data = [
        {
            "id": model,
            "object": "model",
            "created": 0,
            "owned_by": "speaker",
            "engine": _model_engine(model),
            "voices": names,
        }
        for model in MODELS
    ]
    return JsonResponse({"object": "list", "data": data})


OpenAIVoiceList = inline_serializer(
    name="OpenAIVoiceList",
    fields={
        "object": serializers.CharField(),
        "voices": serializers.ListField(child=serializers.CharField()),
        "data": inline_serializer(
            name="OpenAIVoice",
            many=True,
            fields={
                "id": serializers.CharField(),
                "object": serializers.CharField(),
                "name": serializers.CharField(),
                "alias_of": serializers.CharField(
                    allow_null=True, help_text="The Speaker voice an OpenAI name speaks as"
                ),
            },
        ),
    },
)
OpenAIModelList = inline_serializer(
    name="OpenAIModelList",
    fields={
        "object": serializers.CharField(),
        "data": inline_serializer(
            name="OpenAIModel",
            many=True,
            fields={
                "id": serializers.CharField(),
                "object": serializers.CharField(),
                "created": serializers.IntegerField(),
                "owned_by": serializers.CharField(),
                "engine": serializers.CharField(allow_null=True),
                "voices": serializers.ListField(child=serializers.CharField()),
            },
        ),
    },
)


class _ListingView(APIView):
    authentication_classes: list = []
    permission_classes: list = []


class ModelsView(_ListingView):
    @extend_schema(
        responses={200: OpenAIModelList, 401: OpenApiResponse(OpenAIError, description="Missing or wrong API key")},
        tags=["openai"],
        summary="Models /v1/audio/speech accepts, with their voices (with an xi-api-key header: ElevenLabs' "
        "model list)",
        auth=[{"ApiKeyBearer": []}],
    )
    def get(self, request: Any) -> HttpResponse:
        return models(request._request)
