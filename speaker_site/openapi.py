"""Shared OpenAPI pieces: the one error body, referenced by every endpoint's responses."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorBody = inline_serializer(
    name="ErrorBody",
    fields={
        "error": inline_serializer(
            name="ErrorDetail",
            fields={
                "code": serializers.CharField(help_text="validation_error, not_authenticated, permission_denied, not_found, method_not_allowed, conflict, payload_too_large, unsupported_media_type, unprocessable, rate_limited, quota_exceeded, service_unavailable, internal_error"),
                "message": serializers.CharField(),
                "details": serializers.DictField(),
            },
        )
    },
)


def error(description: str, code: str = "validation_error", message: str = "Invalid input.") -> OpenApiResponse:
    return OpenApiResponse(
        response=ErrorBody,
        description=description,
        examples=[OpenApiExample(code, value={"error": {"code": code, "message": message, "details": {}}})],
    )


COMMON_ERRORS = {
    400: error("Invalid input", "validation_error"),
    401: error("Missing or bad credentials", "not_authenticated", "Authentication credentials were not provided."),
    403: error("Key lacks a scope", "permission_denied"),
    429: error("Rate limited", "rate_limited", "Too many requests."),
}
