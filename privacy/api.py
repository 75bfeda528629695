"""People's data endpoints (thin: validate, call one service, serialise): exports of
one's data and the erasure of one's account (docs/privacy.md)."""

from __future__ import annotations

from django.contrib.auth import logout
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import APIKey
from core import media
from core.errors import Conflict
from core.negotiation import AudioContentNegotiation
from core.openapi import COMMON_ERRORS, error
from privacy.erasure import account_erase_own
from privacy.exports import export_downloaded, export_request
from privacy.models import DataExport
from privacy.serializers import EraseSerializer, ExportCreateSerializer, ExportSerializer

# A key may touch the account's data only with the scope that manages the account's keys.
ACCOUNT_SCOPE = {"*": {"keys:manage"}}
NOT_FOUND = error("Unknown export, or another user's", "not_found", "Not found.")


def owned_export(request: Request, export_id: str) -> DataExport:
    return get_object_or_404(DataExport, pk=export_id, owner=request.user)


class ExportListCreateView(APIView):
    required_scopes = ACCOUNT_SCOPE

    @extend_schema(responses={200: ExportSerializer(many=True), **COMMON_ERRORS}, tags=["account"])
    def get(self, request: Request) -> Response:
        exports = DataExport.objects.filter(owner=request.user)
        return Response(ExportSerializer(exports, many=True).data)

    @extend_schema(
        request=ExportCreateSerializer,
        responses={
            202: ExportSerializer,
            409: error("Another export is being made", "conflict", "An export of your data is already being made."),
            **COMMON_ERRORS,
        },
        tags=["account"],
        summary="Export my data",
        description="Queues a zip of everything Speaker keeps of your account (profile, voices with their samples "
        "and consent records, history, productions, usage; the history's audio when `include_audio`). The engine "
        "workers build it within seconds; it can be downloaded for 24 hours, then it is deleted.",
    )
    def post(self, request: Request) -> Response:
        serializer = ExportCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        export = export_request(user=request.user, include_audio=serializer.validated_data["include_audio"])
        return Response(ExportSerializer(export).data, status=status.HTTP_202_ACCEPTED)


class ExportDetailView(APIView):
    required_scopes = ACCOUNT_SCOPE

    @extend_schema(responses={200: ExportSerializer, 404: NOT_FOUND, **COMMON_ERRORS}, tags=["account"])
    def get(self, request: Request, export_id: str) -> Response:
        return Response(ExportSerializer(owned_export(request, export_id)).data)


class ExportDownloadView(APIView):
    # A zip whatever the client's Accept says; errors stay the JSON body.
    content_negotiation_class = AudioContentNegotiation
    required_scopes = ACCOUNT_SCOPE

    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The export"),
            404: NOT_FOUND,
            409: error("Not ready yet", "conflict", "The export is building; download it once it is ready."),
            **COMMON_ERRORS,
        },
        tags=["account"],
        summary="Download an export of my data",
    )
    def get(self, request: Request, export_id: str) -> HttpResponse:
        export = owned_export(request, export_id)
        if export.status != DataExport.Status.READY or not export.file:
            raise Conflict(
                f"The export is {export.status}; download it once it is ready.", details={"status": export.status}
            )
        path = media.absolute(export.file)
        if not path.is_file():
            raise Conflict("The export's file is gone; ask for a new export.", details={"status": export.status})
        export_downloaded(export=export)
        response = FileResponse(open(path, "rb"), content_type="application/zip")
        response["Content-Length"] = str(path.stat().st_size)
        response["Content-Disposition"] = f'attachment; filename="speaker-data-{export.created_at:%Y%m%d}.zip"'
        return response


class AccountEraseView(APIView):
    required_scopes = ACCOUNT_SCOPE

    @extend_schema(
        request=EraseSerializer,
        responses={
            204: None,
            400: error("Username not typed exactly", "validation_error"),
            401: COMMON_ERRORS[401],
            403: error(
                "Wrong password (re-authentication), or a key without keys:manage",
                "reauthentication_failed",
                "Enter your current password to confirm it is you.",
            ),
            429: error("Too many wrong passwords", "rate_limited"),
        },
        tags=["account"],
        summary="Erase my account and all its data",
        description="Irreversible. Running jobs and productions are cancelled; every voice sample, stored "
        "conditioning, generated audio, production file, export, API key and session is deleted. The audit log "
        "keeps only that the account was erased, when and from where.",
    )
    def post(self, request: Request) -> Response:
        serializer = EraseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account_erase_own(user=request.user, **serializer.validated_data)
        if not isinstance(request.auth, APIKey):
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)
