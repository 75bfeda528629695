"""ElevenLabs-compatible endpoints (docs/compatibility.md "ElevenLabs-compatible API"): thin views that
authenticate the `xi-api-key` header (any Speaker API key; its scopes apply), read the
request, call one service or selector, and answer in ElevenLabs' shapes, errors as
`{"detail": {"status", "message"}}` (elevenlabs_api.errors).

These routes follow ElevenLabs' published API, not Speaker's OpenAPI schema, so they
are left out of /openapi.json; GET /v1/models is shared with the OpenAI-compatible
API: the wiring sends callers that send `xi-api-key` here (core.api_families.by_family)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from accounts.authentication import api_key_for_request, raw_key_from_headers
from core.errors import ApiError
from core.parsers import InvalidJSON, InvalidText, check_text, loads_request_json
from elevenlabs_api import selectors, services
from elevenlabs_api.errors import ELEVENLABS_KEY_HEADER, elevenlabs_error
from elevenlabs_api.formats import UnknownFormat, output_format
from elevenlabs_api.requests import BadRequest, speech_body
from speech.engines.errors import EngineError, EngineUnavailable
from synthesis.downloads import job_audio_file, ranged_file_response
from synthesis.services import job_delete
from voices.audio_validation import SampleSizeLimitUploadHandler
from voices.selectors import voice_get_owned, voice_get_visible
from voices.services import voice_delete

logger = logging.getLogger("speaker.elevenlabs")

SYNTHESIS = {"synthesis:write"}
VOICES_READ_ANY = {"voices:read", "synthesis:write"}  # either lists voices (as on the OpenAI route)


def _error_for(exc: Exception) -> JsonResponse:
    if isinstance(exc, ApiError):
        return elevenlabs_error(exc.status_code, exc.message, exc.code, headers=exc.headers)
    if isinstance(exc, Http404):
        return elevenlabs_error(404, "Not found: no such item among yours (or the built-in voices).", "not_found")
    if isinstance(exc, EngineUnavailable):
        return elevenlabs_error(409, exc.message, "engine_unavailable")
    if isinstance(exc, EngineError):
        field = getattr(exc, "field", None)
        return elevenlabs_error(400, f"{field}: {exc.message}" if field else exc.message, exc.code)
    raise exc


@method_decorator(csrf_exempt, name="dispatch")
class ElevenLabsView(View):
    """Authenticates the key (xi-api-key; Speaker's own headers work too), checks the
    scopes the method needs (`scopes`: method -> any one of these), and turns Speaker's
    errors into ElevenLabs' body."""

    scopes: dict[str, set[str]] = {}

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if raw_key_from_headers(request.headers) is None:
            return elevenlabs_error(
                401,
                f"No API key: send your Speaker API key in the {ELEVENLABS_KEY_HEADER} header.",
                "needs_authorization",
            )
        api_key = api_key_for_request(request)
        if api_key is None:
            return elevenlabs_error(401, "Invalid, expired or revoked API key.", "invalid_api_key")
        needed = self.scopes.get(request.method or "GET", set())
        if needed and not needed & set(api_key.scopes):
            return elevenlabs_error(
                403,
                f"This API key lacks the scope this needs: one of {', '.join(sorted(needed))}.",
                "missing_permissions",
            )
        request.user = api_key.user
        try:
            return super().dispatch(request, *args, **kwargs)
        except (ApiError, Http404, EngineError) as exc:
            return _error_for(exc)
        except BadRequest as exc:
            return elevenlabs_error(400, exc.message, "invalid_request")
        except UnknownFormat as exc:
            return elevenlabs_error(400, str(exc), "invalid_output_format")
        except MultiPartParserError as exc:  # a multipart body without its boundary, cut short, …
            return elevenlabs_error(400, f"The multipart/form-data body could not be read: {exc}", "invalid_multipart")

    def http_method_not_allowed(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = elevenlabs_error(405, f"{request.method} is not allowed here.", "method_not_allowed")
        response["Allow"] = ", ".join(m.upper() for m in self._allowed_methods())
        return response


def _json_body(request: HttpRequest) -> Any:
    try:
        return loads_request_json(request.body or b"{}")
    except InvalidJSON as exc:
        raise BadRequest(str(exc), "body") from exc


def _form_text(request: HttpRequest, name: str) -> str:
    """A form field under the one text rule (core.parsers): NUL reached PostgreSQL as a
    DataError, a 500."""
    try:
        return check_text(request.POST.get(name) or "", field=name)
    except InvalidText as exc:
        raise BadRequest(exc.message, name) from exc


def _int_param(request: HttpRequest, name: str, default: int, low: int, high: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}.", name) from exc
    if not low <= value <= high:
        raise BadRequest(f"{name} must be a whole number from {low} to {high}.", name)
    return value


# ------------------------------------------------------------------ text to speech


class _SpeechView(ElevenLabsView):
    scopes = {"POST": SYNTHESIS}

    def _start(self, request: HttpRequest, voice_id: str) -> Any:
        fmt = output_format(request.GET.get("output_format"))
        body = speech_body(_json_body(request))
        job = services.speech_start(user=request.user, api_key=request.api_key, voice_id=voice_id, body=body)  # type: ignore[attr-defined]
        return job, fmt


class SpeechView(_SpeechView):
    def post(self, request: HttpRequest, voice_id: str) -> HttpResponse:
        job, fmt = self._start(request, voice_id)
        return services.speech_audio_response(job=job, fmt=fmt)


class SpeechWithTimestampsView(_SpeechView):
    def post(self, request: HttpRequest, voice_id: str) -> HttpResponse:
        job, fmt = self._start(request, voice_id)
        response = JsonResponse(services.speech_with_timestamps(job=job, fmt=fmt))
        response["history-item-id"] = str(job.pk)
        response["X-Job-ID"] = str(job.pk)
        return response


class SpeechStreamWithTimestampsView(_SpeechView):
    def post(self, request: HttpRequest, voice_id: str) -> HttpResponse:
        job, fmt = self._start(request, voice_id)
        return services.speech_timestamps_stream_response(job=job, fmt=fmt)


# ------------------------------------------------------------------ voices


class VoicesView(ElevenLabsView):
    scopes = {"GET": VOICES_READ_ANY}

    def get(self, request: HttpRequest) -> HttpResponse:
        voices = selectors.voices_all(user=request.user).prefetch_related("samples")
        return JsonResponse({"voices": [selectors.voice_shape(v, user=request.user) for v in voices]})


class VoicesSearchView(ElevenLabsView):
    """GET /v2/voices: the SDK's voices.search()."""

    scopes = {"GET": VOICES_READ_ANY}

    def get(self, request: HttpRequest) -> HttpResponse:
        token = request.GET.get("next_page_token") or ""
        try:
            offset = selectors.page_offset(token) if token else 0
        except ValueError as exc:
            raise BadRequest(f"{exc}; leave it out for the first page.", "next_page_token") from exc
        query = selectors.VoiceSearch(
            search=(request.GET.get("search") or "").strip(),
            page_size=_int_param(request, "page_size", 10, 1, selectors.MAX_VOICES_PAGE),
            offset=offset,
            voice_type=request.GET.get("voice_type") or "",
            category=request.GET.get("category") or "",
            sort=request.GET.get("sort") or "",
            sort_direction=request.GET.get("sort_direction") or "",
            voice_ids=tuple(request.GET.getlist("voice_ids")),
        )
        return JsonResponse(selectors.voices_search(user=request.user, query=query))


class VoiceDetailView(ElevenLabsView):
    scopes = {"GET": VOICES_READ_ANY, "DELETE": {"voices:write"}}

    def get(self, request: HttpRequest, voice_id: str) -> HttpResponse:
        if not selectors.is_uuid(voice_id):
            raise Http404
        voice = voice_get_visible(user=request.user, voice_id=voice_id)
        return JsonResponse(selectors.voice_shape(voice, user=request.user))

    def delete(self, request: HttpRequest, voice_id: str) -> HttpResponse:
        if not selectors.is_uuid(voice_id):
            raise Http404
        # Built-in voices are not the caller's to delete: 404 like another user's voice.
        voice_delete(voice=voice_get_owned(user=request.user, voice_id=voice_id))
        return JsonResponse({"status": "ok"})


class VoiceAddView(ElevenLabsView):
    """POST /v1/voices/add: instant voice cloning, only under the account's cloning
    attestation (elevenlabs_api.services.voice_add)."""

    scopes = {"POST": {"voices:write"}}

    def post(self, request: HttpRequest) -> HttpResponse:
        request.upload_handlers = [SampleSizeLimitUploadHandler(request), *request.upload_handlers]
        voice = services.voice_add(
            user=request.user,
            request=services.VoiceAdd(
                name=_form_text(request, "name"),
                files=request.FILES.getlist("files"),
                description=_form_text(request, "description"),
                labels=services.parse_labels(request.POST.get("labels")),
            ),
        )
        # Speaker prepares the clone in the background (status in labels.status).
        return JsonResponse({"voice_id": str(voice.pk), "requires_verification": False})


class VoiceSettingsDefaultView(ElevenLabsView):
    """GET /v1/voices/settings/default: the SDK's voices.settings.get_default()."""

    scopes = {"GET": VOICES_READ_ANY}

    def get(self, request: HttpRequest) -> HttpResponse:
        return JsonResponse(dict(selectors.DEFAULT_VOICE_SETTINGS))


class VoiceSettingsView(ElevenLabsView):
    """GET /v1/voices/{voice_id}/settings: a voice's own defaults (voices.settings.get())."""

    scopes = {"GET": VOICES_READ_ANY}

    def get(self, request: HttpRequest, voice_id: str) -> HttpResponse:
        if not selectors.is_uuid(voice_id):
            raise Http404
        voice = voice_get_visible(user=request.user, voice_id=voice_id)
        return JsonResponse(selectors.voice_settings_shape(voice))


class VoiceSettingsEditView(ElevenLabsView):
    """POST /v1/voices/{voice_id}/settings/edit (voices.settings.update()): only the
    caller's own voices; a built-in one is a 404 like another user's."""

    scopes = {"POST": {"voices:write"}}

    def post(self, request: HttpRequest, voice_id: str) -> HttpResponse:
        if not selectors.is_uuid(voice_id):
            raise Http404
        voice = voice_get_owned(user=request.user, voice_id=voice_id)
        services.voice_settings_edit(voice=voice, body=_json_body(request))
        return JsonResponse({"status": "ok"})


# ------------------------------------------------------------------ models, user


class ModelsView(ElevenLabsView):
    """GET /v1/models for callers that send `xi-api-key`: ElevenLabs' shape, a JSON array
    of models (the route is shared with the OpenAI-compatible API)."""

    scopes = {"GET": VOICES_READ_ANY}

    def get(self, request: HttpRequest) -> HttpResponse:
        return JsonResponse(selectors.models_list(), safe=False)


class UserView(ElevenLabsView):
    scopes = {"GET": SYNTHESIS}

    def get(self, request: HttpRequest) -> HttpResponse:
        return JsonResponse(selectors.user_shape(user=request.user))


class SubscriptionView(ElevenLabsView):
    scopes = {"GET": SYNTHESIS}

    def get(self, request: HttpRequest) -> HttpResponse:
        return JsonResponse(selectors.subscription_shape(user=request.user))


# ------------------------------------------------------------------ history


def _unix_param(request: HttpRequest, name: str) -> datetime | None:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return None
    try:
        return datetime.fromtimestamp(int(raw), tz=UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise BadRequest(f"{name} must be a Unix time in seconds.", name) from exc


class HistoryView(ElevenLabsView):
    scopes = {"GET": SYNTHESIS}

    def get(self, request: HttpRequest) -> HttpResponse:
        direction = request.GET.get("sort_direction") or "desc"
        if direction not in ("asc", "desc"):
            raise BadRequest("sort_direction must be asc or desc.", "sort_direction")
        query = selectors.HistoryQuery(
            page_size=_int_param(request, "page_size", 100, 1, selectors.MAX_HISTORY_PAGE),
            start_after=request.GET.get("start_after_history_item_id") or None,
            voice_id=request.GET.get("voice_id") or None,
            model_id=request.GET.get("model_id") or None,
            before=_unix_param(request, "date_before_unix"),
            after=_unix_param(request, "date_after_unix"),
            ascending=direction == "asc",
            search=(request.GET.get("search") or "").strip(),
        )
        return JsonResponse(selectors.history_page(user=request.user, query=query))


def _owned_item(request: HttpRequest, item_id: str) -> Any:
    job = selectors.history_job(user=request.user, item_id=item_id)
    if job is None:
        raise Http404
    return job


class HistoryItemView(ElevenLabsView):
    scopes = {"GET": SYNTHESIS, "DELETE": SYNTHESIS}

    def get(self, request: HttpRequest, item_id: str) -> HttpResponse:
        return JsonResponse(selectors.history_item_shape(_owned_item(request, item_id)))

    def delete(self, request: HttpRequest, item_id: str) -> HttpResponse:
        job_delete(job=_owned_item(request, item_id))
        return JsonResponse({"status": "ok"})


class HistoryAudioView(ElevenLabsView):
    scopes = {"GET": SYNTHESIS}

    def get(self, request: HttpRequest, item_id: str) -> HttpResponse:
        job = _owned_item(request, item_id)
        path, content_type = job_audio_file(job=job, fmt="mp3")
        return ranged_file_response(request, path, content_type, f"speaker-{job.pk}{path.suffix}")
