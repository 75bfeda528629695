"""ElevenLabs' pronunciation dictionary routes (docs/pronunciation.md), on the
pronunciation app's services: add from a PLS file or from rules, list, get, add and
remove rules (each a new version), download a version as PLS. Answers in ElevenLabs'
shapes; another account's dictionary is a 404, as if missing."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from elevenlabs_api.api import SYNTHESIS, ElevenLabsView, _form_text, _int_param, _json_body
from elevenlabs_api.requests import BadRequest
from pronunciation import selectors, services
from pronunciation.api import pls_response
from pronunciation.models import PronunciationDictionary


def _metadata(dictionary: PronunciationDictionary) -> dict[str, Any]:
    version = dictionary.latest_version
    return {
        "id": str(dictionary.pk),
        "latest_version_id": str(version.pk) if version else "",
        "latest_version_rules_num": len(version.rules) if version else 0,
        "name": dictionary.name,
        "permission_on_resource": "admin",
        "created_by": str(dictionary.owner_id),
        "creation_time_unix": int(dictionary.created_at.timestamp()),
        "archived_time_unix": None,
        "description": dictionary.description or None,
    }


def _added(dictionary: PronunciationDictionary) -> dict[str, Any]:
    version = dictionary.latest_version
    assert version is not None
    return {
        "id": str(dictionary.pk),
        "name": dictionary.name,
        "created_by": str(dictionary.owner_id),
        "creation_time_unix": int(dictionary.created_at.timestamp()),
        "version_id": str(version.pk),
        "version_rules_num": len(version.rules),
        "description": dictionary.description or None,
        "permission_on_resource": "admin",
    }


def _changed(dictionary: PronunciationDictionary) -> dict[str, Any]:
    version = dictionary.latest_version
    assert version is not None
    return {"id": str(dictionary.pk), "version_id": str(version.pk), "version_rules_num": len(version.rules)}


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise BadRequest("name is required: 1 to 200 characters.", "name")
    return value


def _description(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > 2000:
        raise BadRequest("description must be a string of at most 2000 characters.", "description")
    return value


class AddFromFileView(ElevenLabsView):
    scopes = {"POST": SYNTHESIS}

    def post(self, request: HttpRequest) -> HttpResponse:
        upload = request.FILES.get("file")
        if upload is None:
            raise BadRequest("file is required: a PLS lexicon.", "file")
        rules = services.rules_from_pls(upload.read(services.read_limit()))
        dictionary = services.dictionary_create(
            owner=request.user,  # type: ignore[arg-type]
            name=_name(_form_text(request, "name")),
            description=_form_text(request, "description"),
            rules=rules,
        )
        return JsonResponse(_added(dictionary))


class AddFromRulesView(ElevenLabsView):
    scopes = {"POST": SYNTHESIS}

    def post(self, request: HttpRequest) -> HttpResponse:
        body = _json_body(request)
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.", "body")
        dictionary = services.dictionary_create(
            owner=request.user,  # type: ignore[arg-type]
            name=_name(body.get("name")),
            description=_description(body.get("description")),
            rules=services.rules_from_dicts(body.get("rules")),
        )
        return JsonResponse(_added(dictionary))


class ListView(ElevenLabsView):
    scopes = {"GET": SYNTHESIS}

    def get(self, request: HttpRequest) -> HttpResponse:
        page_size = _int_param(request, "page_size", 30, 1, 100)
        start = _int_param(request, "cursor", 0, 0, 2**31)
        order = "name" if request.GET.get("sort") == "name" else "created_at"
        if request.GET.get("sort_direction", "descending") != "ascending":
            order = "-" + order
        rows = list(
            selectors.dictionaries_for(owner=request.user).order_by(order, "pk")[start : start + page_size + 1]  # type: ignore[arg-type]
        )
        more = len(rows) > page_size
        return JsonResponse(
            {
                "pronunciation_dictionaries": [_metadata(d) for d in rows[:page_size]],
                "next_cursor": str(start + page_size) if more else None,
                "has_more": more,
            }
        )


class DetailView(ElevenLabsView):
    scopes = {"GET": SYNTHESIS}

    def get(self, request: HttpRequest, dictionary_id: str) -> HttpResponse:
        dictionary = selectors.dictionary_get(owner=request.user, dictionary_id=dictionary_id)  # type: ignore[arg-type]
        version = dictionary.latest_version
        return JsonResponse({**_metadata(dictionary), "rules": list(version.rules) if version else []})


class AddRulesView(ElevenLabsView):
    scopes = {"POST": SYNTHESIS}

    def post(self, request: HttpRequest, dictionary_id: str) -> HttpResponse:
        dictionary = selectors.dictionary_get(owner=request.user, dictionary_id=dictionary_id)  # type: ignore[arg-type]
        body = _json_body(request)
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.", "body")
        services.dictionary_add_rules(dictionary=dictionary, rules=services.rules_from_dicts(body.get("rules")))
        dictionary.refresh_from_db()
        return JsonResponse(_changed(dictionary))


class RemoveRulesView(ElevenLabsView):
    scopes = {"POST": SYNTHESIS}

    def post(self, request: HttpRequest, dictionary_id: str) -> HttpResponse:
        dictionary = selectors.dictionary_get(owner=request.user, dictionary_id=dictionary_id)  # type: ignore[arg-type]
        body = _json_body(request)
        strings = body.get("rule_strings") if isinstance(body, dict) else None
        if not isinstance(strings, list) or not all(isinstance(s, str) for s in strings):
            raise BadRequest("rule_strings must be a list of the texts whose rules to remove.", "rule_strings")
        services.dictionary_remove_rules(dictionary=dictionary, graphemes=strings)
        dictionary.refresh_from_db()
        return JsonResponse(_changed(dictionary))


class DownloadView(ElevenLabsView):
    scopes = {"GET": SYNTHESIS}

    def get(self, request: HttpRequest, dictionary_id: str, version_id: str) -> HttpResponse:
        return pls_response(owner=request.user, dictionary_id=dictionary_id, version_id=version_id)
