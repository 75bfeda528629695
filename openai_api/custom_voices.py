"""OpenAI's custom voices with consent (docs/compatibility.md "Custom voices"): consent
recordings at /v1/audio/voice_consents and voices cloned from a sample under one at
/v1/audio/voices. Thin views: authenticate, read the form, call one service of
voices.services.consents (or voices.services), answer in OpenAI's object shapes."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.views import APIView

from core.errors import ApiError
from core.parsers import InvalidJSON, InvalidText, check_text, loads_request_json
from core.serializers import unknown_fields
from openai_api import api
from openai_api.errors import openai_error
from voices.audio_validation import SampleSizeLimitUploadHandler
from voices.models import Voice, VoiceConsent
from voices.selectors import voice_consent_get_owned, voice_consent_list, voice_get_owned
from voices.services import voice_delete
from voices.services.consents import (
    BCP47_PATTERN,
    voice_clone_with_consent,
    voice_consent_create,
    voice_consent_delete,
    voice_consent_rename,
)

VOICES_READ = {"voices:read", "voices:write"}
VOICES_WRITE = {"voices:write"}
_NOT_FOUND = "No such object among yours."


def consent_shape(consent: VoiceConsent) -> dict[str, Any]:
    return {
        "object": "audio.voice_consent",
        "id": str(consent.pk),
        "name": consent.name,
        "language": consent.language,
        "created_at": int(consent.created_at.timestamp()),
    }


def voice_shape(voice: Voice) -> dict[str, Any]:
    """OpenAI's audio.voice exactly as its published schema has it (no other fields)."""
    return {
        "object": "audio.voice",
        "id": str(voice.pk),
        "name": voice.name,
        "created_at": int(voice.created_at.timestamp()),
    }


def voice_detail_shape(voice: Voice) -> dict[str, Any]:
    """GET /v1/audio/voices/{id}, Speaker's own: the object with how it was made and
    Speaker's preparation status (a clone speaks once `status` is ready)."""
    return {**voice_shape(voice), "type": "audio_sample", "status": voice.status}


class _BadRequest(Exception):
    def __init__(self, message: str, param: str | None) -> None:
        self.message, self.param = message, param


def _refuse_unknown(keys: Any, known: Any) -> None:
    """A field the operation does not take is a 400, as OpenAI answers and as the schema
    says (additionalProperties: false)."""
    unknown = unknown_fields({key: None for key in keys}, set(known.fields))
    if unknown:
        raise _BadRequest(api.unrecognized_argument(unknown), unknown[0])


def _form_text(request: HttpRequest, name: str, *, required: bool = True) -> str:
    raw = request.POST.get(name)
    if raw is None or not raw.strip():
        if required:
            raise _BadRequest(f"{name} is required.", name)
        return ""
    try:
        return check_text(raw, field=name)
    except InvalidText as exc:
        raise _BadRequest(exc.message, name) from exc


def _error_for(exc: ApiError) -> JsonResponse:
    param = exc.details.get("param") if isinstance(exc.details, dict) else None
    if param is None and isinstance(exc.details, dict):
        param = next((key for key, value in exc.details.items() if isinstance(value, list)), None)
    return openai_error(exc.status_code, exc.message, exc.code, param, headers=exc.headers)


class OpenAIObjectView(APIView):
    """Authenticates the key as the speech route does (Bearer), checks the scopes the
    method needs (`scopes`: method -> any one of these) and answers every error in
    OpenAI's shape. DRF's own authentication and parsing are not used."""

    authentication_classes: list = []
    permission_classes: list = []
    parser_classes: list = []
    scopes: dict[str, set[str]] = {}

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.args, self.kwargs, self.request = args, kwargs, request
        method = (request.method or "GET").upper()
        if method == "OPTIONS":  # what the route allows, asked without a key (a CORS preflight)
            response = HttpResponse(status=200)
            response["Allow"] = ", ".join(self.allowed_methods)
            return response
        api_key = api._authenticate(request)
        if isinstance(api_key, JsonResponse):
            return api_key
        handler = getattr(self, method.lower(), None) if method.lower() in self.http_method_names else None
        if handler is None:
            response = openai_error(405, f"{method} is not allowed here.", "method_not_allowed")
            response["Allow"] = ", ".join(self.allowed_methods)
            return response
        needed = self.scopes.get(method, set())
        if needed and not needed & set(api_key.scopes):
            return openai_error(
                403,
                f"This API key lacks the scope this needs: one of {', '.join(sorted(needed))}.",
                "insufficient_scope",
            )
        request.user = api_key.user
        try:
            return handler(request, *args, **kwargs)
        except _BadRequest as exc:
            return openai_error(400, exc.message, "invalid_value", exc.param)
        except ApiError as exc:
            return _error_for(exc)
        except Http404:
            return openai_error(404, _NOT_FOUND, "not_found")
        except MultiPartParserError as exc:  # a multipart body without its boundary, cut short, …
            return openai_error(400, f"The multipart/form-data body could not be read: {exc}", "invalid_multipart")


def _page(request: HttpRequest, items: list[dict[str, Any]]) -> JsonResponse:
    """OpenAI's cursor page: `after` an id from the last page, `limit` 1-100 (20)."""
    raw_limit = request.GET.get("limit") or "20"
    try:
        limit = int(raw_limit)
    except ValueError:
        raise _BadRequest("limit must be a whole number from 1 to 100.", "limit") from None
    if not 1 <= limit <= 100:
        raise _BadRequest("limit must be a whole number from 1 to 100.", "limit")
    after = request.GET.get("after")
    if after:
        ids = [item["id"] for item in items]
        if after not in ids:
            # An id that is not (or no longer) in the list: a 404, as for any object one cannot see.
            return openai_error(404, "after names no object in this list.", "not_found")
        items = items[ids.index(after) + 1 :]
    data = items[:limit]
    return JsonResponse(
        {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": len(items) > limit,
        }
    )


# ------------------------------------------------------------------ schema pieces

VoiceConsentObject = inline_serializer(
    name="OpenAIVoiceConsent",
    fields={
        "object": serializers.CharField(help_text="Always audio.voice_consent"),
        "id": serializers.CharField(),
        "name": serializers.CharField(),
        "language": serializers.CharField(help_text="BCP 47 tag as given"),
        "created_at": serializers.IntegerField(help_text="Unix seconds"),
    },
)
VoiceConsentList = inline_serializer(
    name="OpenAIVoiceConsentList",
    fields={
        "object": serializers.CharField(help_text="Always list"),
        "data": VoiceConsentObject.__class__(many=True),
        "first_id": serializers.CharField(allow_null=True),
        "last_id": serializers.CharField(allow_null=True),
        "has_more": serializers.BooleanField(),
    },
)
VoiceConsentCreate = inline_serializer(
    name="OpenAIVoiceConsentCreate",
    fields={
        "name": serializers.CharField(),
        "language": serializers.RegexField(
            BCP47_PATTERN, max_length=35, help_text="BCP 47 tag, e.g. en-US (a 400 otherwise)"
        ),
        "recording": serializers.FileField(
            help_text="The speaker saying they consent: validated like a voice sample (a 4xx naming the problem)"
        ),
    },
)
VoiceConsentUpdate = inline_serializer(name="OpenAIVoiceConsentUpdate", fields={"name": serializers.CharField()})
VoiceConsentDeleted = inline_serializer(
    name="OpenAIVoiceConsentDeleted",
    fields={"object": serializers.CharField(), "id": serializers.CharField(), "deleted": serializers.BooleanField()},
)
CustomVoiceObject = inline_serializer(
    name="OpenAICustomVoice",
    fields={
        "object": serializers.CharField(help_text="Always audio.voice"),
        "id": serializers.CharField(),
        "name": serializers.CharField(),
        "created_at": serializers.IntegerField(),
    },
)
CustomVoiceDetail = inline_serializer(
    name="OpenAICustomVoiceDetail",
    fields={
        "object": serializers.CharField(help_text="Always audio.voice"),
        "id": serializers.CharField(),
        "name": serializers.CharField(),
        "created_at": serializers.IntegerField(),
        "type": serializers.ChoiceField(choices=["audio_sample"]),
        "status": serializers.CharField(help_text="Speaker's: processing, ready, pending_engine or failed"),
    },
)
CustomVoiceCreate = inline_serializer(
    name="OpenAICustomVoiceCreate",
    fields={
        "name": serializers.CharField(),
        "audio_sample": serializers.FileField(),
        "consent": serializers.CharField(help_text="The id of one of your voice consents"),
        "type": serializers.ChoiceField(choices=["audio_sample"], required=False, help_text="prompt is a 400"),
        "prompt": serializers.CharField(
            required=False, help_text="OpenAI's description of a prompt voice; type prompt is a 400 here"
        ),
    },
)
CustomVoiceDeleted = inline_serializer(
    name="OpenAICustomVoiceDeleted",
    fields={"object": serializers.CharField(), "id": serializers.CharField(), "deleted": serializers.BooleanField()},
)


def _errors(*statuses: int) -> dict[int, OpenApiResponse]:
    return {status: OpenApiResponse(api.OpenAIError, description="OpenAI-shaped error") for status in statuses}


# ------------------------------------------------------------------ consents


class VoiceConsentsView(OpenAIObjectView):
    scopes = {"GET": VOICES_READ, "POST": VOICES_WRITE}

    @extend_schema(
        parameters=[
            OpenApiParameter("after", str),
            OpenApiParameter("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}),
        ],
        responses={200: VoiceConsentList, **_errors(400, 401, 403, 404)},
        tags=["openai"],
        summary="Your voice consent recordings",
        operation_id="openai_voice_consents_list",
        auth=[{"ApiKeyBearer": []}],
    )
    def get(self, request: HttpRequest) -> HttpResponse:
        return _page(request, [consent_shape(c) for c in voice_consent_list(user=request.user)])

    @extend_schema(
        request={"multipart/form-data": VoiceConsentCreate},
        responses={200: VoiceConsentObject, **_errors(400, 401, 403, 413, 415, 422)},
        tags=["openai"],
        summary="Upload a voice consent recording",
        operation_id="openai_voice_consent_create",
        auth=[{"ApiKeyBearer": []}],
    )
    def post(self, request: HttpRequest) -> HttpResponse:
        request.upload_handlers = [SampleSizeLimitUploadHandler(request), *request.upload_handlers]
        _refuse_unknown([*request.POST, *request.FILES], VoiceConsentCreate)
        consent = voice_consent_create(
            user=request.user,
            name=_form_text(request, "name"),
            language=_form_text(request, "language"),
            recording=request.FILES.get("recording"),
        )
        return JsonResponse(consent_shape(consent))


class VoiceConsentView(OpenAIObjectView):
    scopes = {"GET": VOICES_READ, "POST": VOICES_WRITE, "DELETE": VOICES_WRITE}

    @extend_schema(
        responses={200: VoiceConsentObject, **_errors(401, 403, 404)},
        tags=["openai"],
        summary="A voice consent recording",
        operation_id="openai_voice_consent_retrieve",
        auth=[{"ApiKeyBearer": []}],
    )
    def get(self, request: HttpRequest, consent_id: str) -> HttpResponse:
        return JsonResponse(consent_shape(voice_consent_get_owned(user=request.user, consent_id=consent_id)))

    @extend_schema(
        request={"application/json": VoiceConsentUpdate},
        responses={200: VoiceConsentObject, **_errors(400, 401, 403, 404)},
        tags=["openai"],
        summary="Rename a voice consent recording",
        operation_id="openai_voice_consent_update",
        auth=[{"ApiKeyBearer": []}],
    )
    def post(self, request: HttpRequest, consent_id: str) -> HttpResponse:
        consent = voice_consent_get_owned(user=request.user, consent_id=consent_id)
        try:
            body = loads_request_json(request.body or b"{}")
        except InvalidJSON as exc:
            raise _BadRequest(str(exc), None) from exc
        if isinstance(body, dict):
            _refuse_unknown(body, VoiceConsentUpdate)
        name = body.get("name") if isinstance(body, dict) else None
        if not isinstance(name, str) or not name.strip():
            raise _BadRequest("name is required.", "name")
        try:
            name = check_text(name, field="name")
        except InvalidText as exc:
            raise _BadRequest(exc.message, "name") from exc
        return JsonResponse(consent_shape(voice_consent_rename(consent=consent, name=name)))

    @extend_schema(
        responses={200: VoiceConsentDeleted, **_errors(401, 403, 404, 409)},
        tags=["openai"],
        summary="Delete a voice consent recording (409 while voices use it)",
        operation_id="openai_voice_consent_delete",
        auth=[{"ApiKeyBearer": []}],
    )
    def delete(self, request: HttpRequest, consent_id: str) -> HttpResponse:
        consent = voice_consent_get_owned(user=request.user, consent_id=consent_id)
        consent_pk = str(consent.pk)
        voice_consent_delete(consent=consent)
        return JsonResponse({"object": "audio.voice_consent", "id": consent_pk, "deleted": True})


# ------------------------------------------------------------------ voices


class VoicesView(OpenAIObjectView):
    """GET lists what /v1/audio/speech accepts (api.voices); POST clones a voice."""

    scopes = {"GET": {"synthesis:write", "voices:read"}, "POST": VOICES_WRITE}

    @extend_schema(
        responses={200: api.OpenAIVoiceList, **_errors(401, 403)},
        tags=["openai"],
        summary="Voices /v1/audio/speech accepts: OpenAI's names (aliases), built-in and your own voices",
        operation_id="openai_voices_list",
        auth=[{"ApiKeyBearer": []}],
    )
    def get(self, request: HttpRequest) -> HttpResponse:
        return api.voices(request)

    @extend_schema(
        request={"multipart/form-data": CustomVoiceCreate},
        responses={200: CustomVoiceObject, **_errors(400, 401, 403, 404, 409, 413, 415, 422)},
        tags=["openai"],
        summary="Clone a voice from a sample under a voice consent",
        operation_id="openai_voice_create",
        auth=[{"ApiKeyBearer": []}],
    )
    def post(self, request: HttpRequest) -> HttpResponse:
        request.upload_handlers = [SampleSizeLimitUploadHandler(request), *request.upload_handlers]
        _refuse_unknown([*request.POST, *request.FILES], CustomVoiceCreate)
        voice_type = request.POST.get("type") or "audio_sample"
        if voice_type == "prompt":
            raise _BadRequest(
                'Voices made from a text prompt (type "prompt") are not supported here; clone one from an '
                "audio_sample under a voice consent.",
                "type",
            )
        if voice_type != "audio_sample":
            raise _BadRequest("type must be audio_sample.", "type")
        name = _form_text(request, "name")
        consent_id = _form_text(request, "consent")
        try:
            consent = voice_consent_get_owned(user=request.user, consent_id=consent_id)
        except Http404:
            raise ApiError(
                f"There is no voice consent {consent_id!r} among yours.",
                code="not_found",
                status_code=404,
                details={"param": "consent"},
            ) from None
        voice = voice_clone_with_consent(
            user=request.user, name=name, sample=request.FILES.get("audio_sample"), consent=consent
        )
        return JsonResponse(voice_shape(voice))


class VoiceView(OpenAIObjectView):
    scopes = {"GET": VOICES_READ, "DELETE": VOICES_WRITE}

    @extend_schema(
        responses={200: CustomVoiceDetail, **_errors(401, 403, 404)},
        tags=["openai"],
        summary="One of your cloned voices, with its preparation status",
        operation_id="openai_voice_retrieve",
        auth=[{"ApiKeyBearer": []}],
    )
    def get(self, request: HttpRequest, voice_id: str) -> HttpResponse:
        return JsonResponse(voice_detail_shape(_owned_voice(request, voice_id)))

    @extend_schema(
        responses={200: CustomVoiceDeleted, **_errors(401, 403, 404)},
        tags=["openai"],
        summary="Delete one of your cloned voices",
        operation_id="openai_voice_delete",
        auth=[{"ApiKeyBearer": []}],
    )
    def delete(self, request: HttpRequest, voice_id: str) -> HttpResponse:
        voice = _owned_voice(request, voice_id)
        voice_pk = str(voice.pk)
        voice_delete(voice=voice)
        return JsonResponse({"object": "audio.voice.deleted", "id": voice_pk, "deleted": True})


def _owned_voice(request: HttpRequest, voice_id: str) -> Voice:
    try:
        uuid.UUID(voice_id)
    except ValueError:
        raise Http404 from None
    return voice_get_owned(user=request.user, voice_id=voice_id)
