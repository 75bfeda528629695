from __future__ import annotations

from django.core.validators import RegexValidator
from rest_framework import serializers

from core.serializer_fields import StrictBooleanField, StrictCharField, StrictChoiceField
from core.serializers import ModelSerializer as StrictModelSerializer
from core.serializers import Serializer as StrictSerializer
from webhooks.events import WEBHOOK_EVENTS
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.ssrf import URL_FORM_MESSAGE, URL_PATTERN

URL_MAX_LENGTH = 2048


class WebhookEndpointSerializer(StrictModelSerializer):
    events = serializers.ListField(child=serializers.ChoiceField(choices=WEBHOOK_EVENTS), read_only=True)
    failing_since = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text="Since when every delivery has failed; null when the last worked.",
    )
    disabled_reason = serializers.CharField(
        read_only=True, help_text="Why Speaker disabled the endpoint (410 Gone, failing for days); empty otherwise."
    )

    class Meta:
        model = WebhookEndpoint
        fields = (
            "id",
            "url",
            "description",
            "events",
            "enabled",
            "disabled_reason",
            "failing_since",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        help_text="The signing secret (Standard Webhooks, `whsec_…`). Shown once; store it now."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields = WebhookEndpointSerializer.Meta.fields + ("secret",)
        read_only_fields = fields


class _EndpointFields(StrictSerializer):
    url = StrictCharField(
        max_length=URL_MAX_LENGTH,
        validators=[RegexValidator(URL_PATTERN, URL_FORM_MESSAGE)],
        help_text="Where to POST events: https (http outside production), no credentials, a public address "
        "(an internal one, or plain http in production, is a 422).",
    )
    description = StrictCharField(max_length=500, required=False, allow_blank=True)
    events = serializers.ListField(
        child=StrictChoiceField(choices=WEBHOOK_EVENTS), min_length=1, max_length=len(WEBHOOK_EVENTS) * 2
    )
    enabled = StrictBooleanField(required=False)


class WebhookEndpointCreateSerializer(_EndpointFields):
    pass


class WebhookEndpointUpdateSerializer(_EndpointFields):
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class WebhookDeliverySerializer(StrictModelSerializer):
    webhook_id = serializers.CharField(read_only=True, help_text="The `webhook-id` header of every attempt.")

    class Meta:
        model = WebhookDelivery
        fields = (
            "id",
            "webhook_id",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "response_status",
            "response_body",
            "error",
            "duration_ms",
            "created_at",
            "last_attempt_at",
            "delivered_at",
        )
        read_only_fields = fields
