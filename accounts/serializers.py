from __future__ import annotations

from rest_framework import serializers

from accounts.models import SCOPES, APIKey
from core.serializer_fields import StrictCharField, StrictChoiceField
from core.serializers import ModelSerializer as StrictModelSerializer
from core.serializers import Serializer as StrictSerializer

# What a key may be created with: its scopes, or "all" (named ScopeOrAllEnum in the schema).
SCOPES_OR_ALL: tuple[str, ...] = (*SCOPES, "all")


class APIKeySerializer(StrictModelSerializer):
    # Declared (the model field is JSON): the schema then says a list of scope names, so a
    # generated client reads a typed list, not "any".
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=SCOPES), read_only=True)

    class Meta:
        model = APIKey
        fields = ("id", "name", "prefix", "scopes", "created_at", "expires_at", "revoked_at", "last_used_at")
        read_only_fields = fields


class APIKeyCreateSerializer(StrictSerializer):
    name = StrictCharField(max_length=100)
    scopes = serializers.ListField(
        child=StrictChoiceField(choices=SCOPES_OR_ALL),
        required=False,
        allow_empty=True,
        help_text='Scopes for the key; omitted, empty or ["all"] means every scope.',
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class APIKeyCreatedSerializer(APIKeySerializer):
    key = serializers.CharField(help_text="The full secret key. Shown once; store it now.")

    class Meta(APIKeySerializer.Meta):
        fields = APIKeySerializer.Meta.fields + ("key",)
        read_only_fields = fields


class MeSerializer(StrictSerializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField(allow_blank=True)
    auth = serializers.ChoiceField(choices=["api_key", "session"])
    key = serializers.DictField(allow_null=True, help_text="prefix, name and scopes of the calling key")
