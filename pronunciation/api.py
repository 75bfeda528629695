"""Speaker's own pronunciation dictionary endpoints (thin: validate, call one service,
serialise). The ElevenLabs-compatible ones are elevenlabs_api's, on the same services."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import COMMON_ERRORS, error
from core.parsers import JSONParser
from pronunciation import selectors, services
from pronunciation.pls import write_pls
from pronunciation.serializers import (
    DictionaryCreateSerializer,
    DictionaryFileSerializer,
    DictionarySerializer,
    DictionaryUpdateSerializer,
    RulesAddSerializer,
    RulesRemoveSerializer,
)

SCOPE = {"*": {"synthesis:write"}}
NOT_FOUND = error("Unknown dictionary or version, or another user's", "not_found", "Not found.")
TAGS = ["pronunciation"]


class DictionaryListCreateView(APIView):
    required_scopes = SCOPE
    parser_classes = [JSONParser]

    @extend_schema(responses={200: DictionarySerializer(many=True), **COMMON_ERRORS}, tags=TAGS)
    def get(self, request: Request) -> Response:
        return Response(DictionarySerializer(selectors.dictionaries_for(owner=request.user), many=True).data)

    @extend_schema(
        request=DictionaryCreateSerializer,
        responses={201: DictionarySerializer, **COMMON_ERRORS},
        tags=TAGS,
        summary="Create a pronunciation dictionary from rules",
    )
    def post(self, request: Request) -> Response:
        serializer = DictionaryCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        dictionary = services.dictionary_create(
            owner=request.user,
            name=data["name"],
            description=data["description"],
            rules=services.rules_from_dicts(data["rules"]),
            is_default=data["is_default"],
        )
        return Response(DictionarySerializer(dictionary).data, status=status.HTTP_201_CREATED)


class DictionaryFromFileView(APIView):
    required_scopes = SCOPE
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request={"multipart/form-data": DictionaryFileSerializer},
        responses={
            201: DictionarySerializer,
            413: error("File over PRONUNCIATION_MAX_FILE_BYTES", "payload_too_large"),
            **COMMON_ERRORS,
        },
        tags=TAGS,
        summary="Create a pronunciation dictionary from a PLS file",
    )
    def post(self, request: Request) -> Response:
        serializer = DictionaryFileSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        rules = services.rules_from_pls(data["file"].read(services.read_limit()))
        dictionary = services.dictionary_create(
            owner=request.user, name=data["name"], description=data["description"], rules=rules
        )
        return Response(DictionarySerializer(dictionary).data, status=status.HTTP_201_CREATED)


class DictionaryDetailView(APIView):
    required_scopes = SCOPE
    parser_classes = [JSONParser]

    @extend_schema(responses={200: DictionarySerializer, 404: NOT_FOUND, **COMMON_ERRORS}, tags=TAGS)
    def get(self, request: Request, dictionary_id: str) -> Response:
        return Response(
            DictionarySerializer(selectors.dictionary_get(owner=request.user, dictionary_id=dictionary_id)).data
        )

    @extend_schema(
        request=DictionaryUpdateSerializer,
        responses={200: DictionarySerializer, 404: NOT_FOUND, **COMMON_ERRORS},
        tags=TAGS,
        summary="Rename, describe, or make it the account's default",
    )
    def patch(self, request: Request, dictionary_id: str) -> Response:
        dictionary = selectors.dictionary_get(owner=request.user, dictionary_id=dictionary_id)
        serializer = DictionaryUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dictionary = services.dictionary_update(dictionary=dictionary, changes=serializer.validated_data)
        return Response(DictionarySerializer(dictionary).data)

    @extend_schema(responses={204: None, 404: NOT_FOUND, **COMMON_ERRORS}, tags=TAGS)
    def delete(self, request: Request, dictionary_id: str) -> Response:
        services.dictionary_delete(dictionary=selectors.dictionary_get(owner=request.user, dictionary_id=dictionary_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class RulesAddView(APIView):
    required_scopes = SCOPE
    parser_classes = [JSONParser]

    @extend_schema(
        request=RulesAddSerializer,
        responses={200: DictionarySerializer, 404: NOT_FOUND, **COMMON_ERRORS},
        tags=TAGS,
        summary="Add rules (a new version; a rule replaces the one for the same text)",
    )
    def post(self, request: Request, dictionary_id: str) -> Response:
        dictionary = selectors.dictionary_get(owner=request.user, dictionary_id=dictionary_id)
        serializer = RulesAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.dictionary_add_rules(
            dictionary=dictionary, rules=services.rules_from_dicts(serializer.validated_data["rules"])
        )
        return Response(
            DictionarySerializer(selectors.dictionary_get(owner=request.user, dictionary_id=dictionary_id)).data
        )


class RulesRemoveView(APIView):
    required_scopes = SCOPE
    parser_classes = [JSONParser]

    @extend_schema(
        request=RulesRemoveSerializer,
        responses={200: DictionarySerializer, 404: NOT_FOUND, **COMMON_ERRORS},
        tags=TAGS,
        summary="Remove the rules for these texts (a new version)",
    )
    def post(self, request: Request, dictionary_id: str) -> Response:
        dictionary = selectors.dictionary_get(owner=request.user, dictionary_id=dictionary_id)
        serializer = RulesRemoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.dictionary_remove_rules(dictionary=dictionary, graphemes=serializer.validated_data["rule_strings"])
        return Response(
            DictionarySerializer(selectors.dictionary_get(owner=request.user, dictionary_id=dictionary_id)).data
        )


class VersionPlsView(APIView):
    required_scopes = SCOPE

    @extend_schema(
        responses={
            (200, "application/pls+xml"): OpenApiResponse(OpenApiTypes.BINARY, description="A W3C PLS lexicon"),
            404: NOT_FOUND,
            **COMMON_ERRORS,
        },
        tags=TAGS,
        summary="Download a version as a PLS lexicon",
    )
    def get(self, request: Request, dictionary_id: str, version_id: str) -> HttpResponse:
        return pls_response(owner=request.user, dictionary_id=dictionary_id, version_id=version_id)


def pls_response(*, owner: object, dictionary_id: str, version_id: str) -> HttpResponse:
    """A version as a PLS file (shared with the ElevenLabs-compatible download)."""
    dictionary = selectors.dictionary_get(owner=owner, dictionary_id=dictionary_id)  # type: ignore[arg-type]
    version = selectors.version_get(dictionary=dictionary, version_id=version_id)
    response = HttpResponse(write_pls(selectors.version_rules(version)), content_type="application/pls+xml")
    response["Content-Disposition"] = f'attachment; filename="{dictionary.pk}-v{version.number}.pls"'
    return response
