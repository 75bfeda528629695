"""API views for the caller's identity and API keys (thin: validate, call a service)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import APIKey
from accounts.reauthentication import reauthentication_url, session_recently_authenticated
from accounts.selectors import apikeys_listed
from accounts.serializers import APIKeyCreatedSerializer, APIKeyCreateSerializer, APIKeySerializer, MeSerializer
from accounts.services import apikey_create, apikey_delete
from core.errors import ApiError
from core.openapi import COMMON_ERRORS, PAGE_404, error

KEYS_SCOPE = {"*": {"keys:manage"}}


class MeView(APIView):
    @extend_schema(responses={200: MeSerializer, **COMMON_ERRORS}, tags=["account"])
    def get(self, request: Request) -> Response:
        key = request.auth if isinstance(request.auth, APIKey) else None
        return Response(
            {
                "id": request.user.pk,
                "username": request.user.username,
                "email": request.user.email,
                "auth": "api_key" if key else "session",
                "key": {"prefix": key.prefix, "name": key.name, "scopes": key.scopes} if key else None,
            }
        )


class KeyListCreateView(ListAPIView):
    required_scopes = KEYS_SCOPE
    serializer_class = APIKeySerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return apikeys_listed(user=self.request.user)

    @extend_schema(responses={200: APIKeySerializer(many=True), 404: PAGE_404, **COMMON_ERRORS}, tags=["keys"])
    def get(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=APIKeyCreateSerializer,
        responses={
            201: APIKeyCreatedSerializer,
            422: error("expires_at is not in the future", "unprocessable", "expires_at must be in the future."),
            **COMMON_ERRORS,
            403: error(
                "A key lacks a scope, or a dashboard session signed in more than REAUTHENTICATION_SECONDS ago "
                "(details.reauthenticate_url: sign in again there)",
                "reauthentication_required",
                "Confirm it is you: sign in again to create a key.",
            ),
        },
        tags=["keys"],
        examples=[OpenApiExample("read-only key", value={"name": "ci", "scopes": ["voices:read"]}, request_only=True)],
    )
    def post(self, request: Request) -> Response:
        if not isinstance(request.auth, APIKey) and not session_recently_authenticated(request=request._request):
            # The dashboard (a session, not a key): a stale sign-in proves too little to mint a key.
            raise ApiError(
                "Confirm it is you: sign in again to create a key.",
                code="reauthentication_required",
                status_code=403,
                details={"reauthenticate_url": reauthentication_url(next_url="/keys/")},
            )
        serializer = APIKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        new = apikey_create(
            user=request.user,
            creator_key=request.auth if isinstance(request.auth, APIKey) else None,
            **serializer.validated_data,
        )
        body = APIKeySerializer(new.api_key).data | {"key": new.plaintext}
        return Response(body, status=status.HTTP_201_CREATED)


class KeyDetailView(APIView):
    required_scopes = KEYS_SCOPE

    @extend_schema(
        summary="Revoke a key; a second call takes a revoked key off the list",
        description=(
            "An active key is revoked at once (irreversible; its open websockets are closed). "
            "Called again on a key that is revoked, it takes the key off `GET /api/v1/keys` and "
            "the dashboard; the key stays revoked, and usage and the audit log keep its prefix."
        ),
        responses={204: None, 404: error("Not your key", "not_found", "Not found."), **COMMON_ERRORS},
        tags=["keys"],
    )
    def delete(self, request: Request, key_id: int) -> Response:
        api_key = get_object_or_404(APIKey, pk=key_id, user=request.user)
        apikey_delete(api_key=api_key)
        return Response(status=status.HTTP_204_NO_CONTENT)
