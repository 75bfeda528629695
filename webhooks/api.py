"""The webhook endpoints API (thin: validate, call one service, serialise). Every view
needs the `webhooks:manage` scope; another account's endpoint is a 404."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import COMMON_ERRORS, PAGE_404, error
from webhooks import selectors, services
from webhooks.serializers import (
    WebhookDeliverySerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
    WebhookEndpointWithSecretSerializer,
)

WEBHOOKS_SCOPE = {"*": {"webhooks:manage"}}
NOT_YOURS = error("No such endpoint of yours", "not_found", "Not found.")
TAGS = ["webhooks"]
UNALLOWED_URL = error(
    "A URL not allowed here: plain http in production, or a host that is not a public address",
    "unprocessable",
    "The URL's host 10.0.0.1 is a private address.",
)


def _with_secret(created: services.EndpointWithSecret) -> dict[str, Any]:
    return WebhookEndpointSerializer(created.endpoint).data | {"secret": created.secret}


class EndpointListCreateView(ListAPIView):
    required_scopes = WEBHOOKS_SCOPE
    serializer_class = WebhookEndpointSerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return selectors.endpoints_listed(user=self.request.user)

    @extend_schema(responses={200: WebhookEndpointSerializer(many=True), 404: PAGE_404, **COMMON_ERRORS}, tags=TAGS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Add a webhook endpoint; its signing secret is in the answer, once",
        request=WebhookEndpointCreateSerializer,
        responses={
            201: WebhookEndpointWithSecretSerializer,
            409: error(
                "The account has its most endpoints", "conflict", "An account has at most 20 webhook endpoints."
            ),
            422: UNALLOWED_URL,
            **COMMON_ERRORS,
        },
        tags=TAGS,
        examples=[
            OpenApiExample(
                "jobs done",
                value={"url": "https://example.com/speaker-hook", "events": ["job.completed", "job.failed"]},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        serializer = WebhookEndpointCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = services.endpoint_create(owner=request.user, **serializer.validated_data)
        return Response(_with_secret(created), status=status.HTTP_201_CREATED)


class EndpointDetailView(APIView):
    required_scopes = WEBHOOKS_SCOPE

    @extend_schema(responses={200: WebhookEndpointSerializer, 404: NOT_YOURS, **COMMON_ERRORS}, tags=TAGS)
    def get(self, request: Request, endpoint_id: int) -> Response:
        endpoint = selectors.endpoint_get(user=request.user, endpoint_id=endpoint_id)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        summary="Change an endpoint; enabling it again clears why it was disabled",
        request=WebhookEndpointUpdateSerializer,
        responses={200: WebhookEndpointSerializer, 404: NOT_YOURS, 422: UNALLOWED_URL, **COMMON_ERRORS},
        tags=TAGS,
    )
    def patch(self, request: Request, endpoint_id: int) -> Response:
        endpoint = selectors.endpoint_get(user=request.user, endpoint_id=endpoint_id)
        serializer = WebhookEndpointUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = services.endpoint_update(endpoint=endpoint, **serializer.validated_data)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(responses={204: None, 404: NOT_YOURS, **COMMON_ERRORS}, tags=TAGS)
    def delete(self, request: Request, endpoint_id: int) -> Response:
        endpoint = selectors.endpoint_get(user=request.user, endpoint_id=endpoint_id)
        services.endpoint_delete(endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RotateSecretView(APIView):
    required_scopes = WEBHOOKS_SCOPE

    @extend_schema(
        summary="Rotate the signing secret; the old one still signs for 24 hours",
        request=None,
        responses={200: WebhookEndpointWithSecretSerializer, 404: NOT_YOURS, **COMMON_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, endpoint_id: int) -> Response:
        endpoint = selectors.endpoint_get(user=request.user, endpoint_id=endpoint_id)
        return Response(_with_secret(services.endpoint_rotate_secret(endpoint=endpoint)))


class SendTestView(APIView):
    required_scopes = WEBHOOKS_SCOPE

    @extend_schema(
        summary="Send a webhook.test event to this endpoint",
        request=None,
        responses={202: WebhookDeliverySerializer, 404: NOT_YOURS, **COMMON_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, endpoint_id: int) -> Response:
        endpoint = selectors.endpoint_get(user=request.user, endpoint_id=endpoint_id)
        delivery = services.endpoint_send_test(endpoint=endpoint)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class DeliveryListView(ListAPIView):
    required_scopes = WEBHOOKS_SCOPE
    serializer_class = WebhookDeliverySerializer

    def get_queryset(self):  # type: ignore[no-untyped-def]
        endpoint = selectors.endpoint_get(user=self.request.user, endpoint_id=self.kwargs["endpoint_id"])
        return selectors.deliveries_listed(endpoint=endpoint)

    @extend_schema(
        summary="The endpoint's delivery log (kept 30 days), newest first",
        responses={200: WebhookDeliverySerializer(many=True), 404: NOT_YOURS, **COMMON_ERRORS},
        tags=TAGS,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class RedeliverView(APIView):
    required_scopes = WEBHOOKS_SCOPE

    @extend_schema(
        summary="Send a delivery again now (same webhook-id)",
        request=None,
        responses={202: WebhookDeliverySerializer, 404: NOT_YOURS, **COMMON_ERRORS},
        tags=TAGS,
    )
    def post(self, request: Request, endpoint_id: int, delivery_id: Any) -> Response:
        endpoint = selectors.endpoint_get(user=request.user, endpoint_id=endpoint_id)
        delivery = selectors.delivery_get(endpoint=endpoint, delivery_id=delivery_id)
        delivery = services.delivery_redeliver(delivery=delivery)
        return Response(WebhookDeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
